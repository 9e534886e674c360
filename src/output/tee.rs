//! Several sinks at once (terminal + report + GitHub summary).

use super::{Event, Sink};

pub struct Tee(pub Vec<Box<dyn Sink>>);

impl Sink for Tee {
    fn event(&self, e: &Event<'_>) {
        for s in &self.0 {
            s.event(e);
        }
    }

    fn finish(&self) -> std::io::Result<()> {
        for s in &self.0 {
            s.finish()?;
        }
        Ok(())
    }
}
