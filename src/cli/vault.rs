//! `drover vault encrypt|decrypt|view|edit|create|rekey|encrypt_string`, as `ansible-vault`
//! does them, and the vault options shared by `apply`, `validate` and `inventory`.
//!
//! Every file operation decrypts or encrypts in memory first and then replaces its output
//! atomically (a 0600 temporary file in the same directory, renamed into place), so a
//! wrong password leaves no partial output. Plaintext written for `edit` lives in a
//! private 0700 temporary directory that is overwritten and removed afterwards.

use crate::diagnostics::{Error, ErrorKind, Result};
use crate::vault;
use crate::vault::secrets::{self, Secrets, Source, VaultId, VaultSecret};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

/// Where vault passwords come from; flattened into every verb that reads vault data.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct VaultOpts {
    /// Vault password file (repeatable); an executable file is run and its output used
    #[arg(long = "vault-password-file", visible_alias = "vault-pass-file")]
    pub vault_password_file: Vec<PathBuf>,
    /// Vault identity LABEL@SOURCE, SOURCE a password file, a script or 'prompt' (repeatable)
    #[arg(long = "vault-id")]
    pub vault_id: Vec<String>,
    /// Ask for the vault password (without echo)
    #[arg(
        short = 'J',
        long = "ask-vault-pass",
        visible_alias = "ask-vault-password"
    )]
    pub ask_vault_pass: bool,
}

impl VaultOpts {
    /// The ids in Ansible's order: `--vault-id`s, then password files, then the prompt.
    pub fn ids(&self) -> Vec<VaultId> {
        let mut ids: Vec<VaultId> = self.vault_id.iter().map(|s| VaultId::parse(s)).collect();
        ids.extend(self.vault_password_file.iter().map(|p| VaultId::file(p)));
        if self.ask_vault_pass {
            ids.push(VaultId::prompt());
        }
        ids
    }

    /// Load the secrets and install them for the whole process (apply, validate,
    /// inventory). Without any vault option nothing is installed, and vault data is an
    /// error wherever it is met.
    pub fn install(&self) -> Result<()> {
        let ids = self.ids();
        if !ids.is_empty() {
            vault::install(Secrets::load(&ids)?);
        }
        Ok(())
    }
}

// The subcommands of `drover vault`. Doc comments here are clap's `--help` text, so
// the undocumented fields stay so: documenting them would change the help output.
#[allow(missing_docs)]
#[derive(clap::Subcommand, Debug)]
pub enum VaultCommand {
    /// Encrypt files in place (or to --output); no file or '-' reads standard input
    Encrypt {
        files: Vec<PathBuf>,
        #[command(flatten)]
        opts: VaultOpts,
        /// Write here instead of in place ('-' for standard output)
        #[arg(long)]
        output: Option<PathBuf>,
        /// The vault id to encrypt with (required when several are given)
        #[arg(long = "encrypt-vault-id")]
        encrypt_vault_id: Option<String>,
    },
    /// Decrypt files in place (or to --output); no file or '-' reads standard input
    Decrypt {
        files: Vec<PathBuf>,
        #[command(flatten)]
        opts: VaultOpts,
        /// Write here instead of in place ('-' for standard output)
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Print the plaintext of vault files
    View {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        opts: VaultOpts,
    },
    /// Edit a vault file with $EDITOR; re-encrypted only if it changed
    Edit {
        file: PathBuf,
        #[command(flatten)]
        opts: VaultOpts,
        /// The vault id to encrypt with (default: the one that decrypted it)
        #[arg(long = "encrypt-vault-id")]
        encrypt_vault_id: Option<String>,
    },
    /// Create a new vault file with $EDITOR
    Create {
        file: PathBuf,
        #[command(flatten)]
        opts: VaultOpts,
        /// The vault id to encrypt with (required when several are given)
        #[arg(long = "encrypt-vault-id")]
        encrypt_vault_id: Option<String>,
    },
    /// Re-encrypt vault files with a new password
    Rekey {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        opts: VaultOpts,
        /// File (or script) holding the new password
        #[arg(long = "new-vault-password-file")]
        new_vault_password_file: Option<PathBuf>,
        /// The new vault identity: LABEL@SOURCE, or LABEL with --new-vault-password-file
        #[arg(long = "new-vault-id")]
        new_vault_id: Option<String>,
    },
    /// Encrypt strings for inline use in YAML (`NAME: !vault |`)
    #[command(name = "encrypt_string", visible_alias = "encrypt-string")]
    EncryptString {
        /// Strings to encrypt; none reads standard input
        strings: Vec<String>,
        #[command(flatten)]
        opts: VaultOpts,
        /// Variable names, in the order of the strings (repeatable)
        #[arg(short = 'n', long = "name")]
        names: Vec<String>,
        /// Read the string from standard input and give it this name
        #[arg(long = "stdin-name")]
        stdin_name: Option<String>,
        /// Prompt for the string to encrypt (without echo)
        #[arg(short = 'p', long = "prompt")]
        prompt: bool,
        /// Write here instead of standard output
        #[arg(long)]
        output: Option<PathBuf>,
        /// The vault id to encrypt with (required when several are given)
        #[arg(long = "encrypt-vault-id")]
        encrypt_vault_id: Option<String>,
    },
}

fn fail(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Invalid, msg)
}

/// Secrets for reading; with no option at all, prompt (as ansible-vault does).
fn read_secrets(opts: &VaultOpts) -> Result<Secrets> {
    let mut ids = opts.ids();
    if ids.is_empty() {
        ids.push(VaultId::prompt());
    }
    Secrets::load(&ids)
}

/// The secret to encrypt with; with no option at all, prompt twice for a new password.
fn encrypt_secret(opts: &VaultOpts, encrypt_vault_id: Option<&str>) -> Result<VaultSecret> {
    let ids = opts.ids();
    if ids.is_empty() {
        return VaultId::prompt().load(true);
    }
    let secrets = Secrets::load(&ids)?;
    secrets.for_encrypt(encrypt_vault_id).cloned()
}

fn is_stdio(p: &Path) -> bool {
    p.as_os_str() == "-"
}

fn read_input(path: &Path) -> Result<Vec<u8>> {
    if is_stdio(path) {
        let mut data = Vec::new();
        std::io::stdin()
            .read_to_end(&mut data)
            .map_err(|e| Error::io(format!("cannot read standard input: {e}")).caused_by(e))?;
        return Ok(data);
    }
    std::fs::read(path).map_err(|e| Error::io_at(path, &e))
}

/// Replace `dest` atomically with `data`. `mode`: the permission bits of the result.
fn write_atomic(dest: &Path, data: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let io = |e: std::io::Error| Error::io(format!("cannot write {}: {e}", dest.display()));
    // tempfile creates the file 0600, so plaintext is never readable by others.
    let mut tmp = tempfile::Builder::new()
        .prefix(".drover-vault-")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(data).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode)).map_err(io)?;
    tmp.persist(dest).map_err(|e| io(e.error))?;
    Ok(())
}

fn write_output(dest: &Path, data: &[u8], mode: u32) -> Result<()> {
    if is_stdio(dest) {
        let mut out = std::io::stdout().lock();
        out.write_all(data)
            .and_then(|_| out.flush())
            .map_err(|e| Error::io(format!("cannot write standard output: {e}")).caused_by(e))
    } else {
        write_atomic(dest, data, mode)
    }
}

fn existing_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o600)
}

fn decrypt_named(secrets: &Secrets, data: &[u8], path: &Path) -> Result<(Vec<u8>, String)> {
    let name = if is_stdio(path) {
        "standard input".to_string()
    } else {
        path.display().to_string()
    };
    if !vault::is_encrypted(data) {
        return Err(fail(format!("{name} is not vault-encrypted")));
    }
    secrets
        .decrypt(data)
        .map(|(plain, used)| (plain, used.label.clone()))
        .map_err(|e| fail(format!("cannot decrypt {name}: {e}")))
}

/// Files to work on: none means standard input.
fn inputs(files: &[PathBuf]) -> Vec<PathBuf> {
    if files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        files.to_vec()
    }
}

fn check_output(files: &[PathBuf], output: &Option<PathBuf>) -> Result<()> {
    if output.is_some() && files.len() > 1 {
        return Err(fail("--output can only be used with one input file"));
    }
    Ok(())
}

/// Run one `drover vault` verb; returns the exit code.
pub fn run(cmd: VaultCommand) -> Result<i32> {
    match cmd {
        VaultCommand::Encrypt {
            files,
            opts,
            output,
            encrypt_vault_id,
        } => {
            let files = inputs(&files);
            check_output(&files, &output)?;
            let secret = encrypt_secret(&opts, encrypt_vault_id.as_deref())?;
            for f in &files {
                let data = read_input(f)?;
                if vault::is_encrypted(&data) {
                    return Err(fail(format!("{} is already vault-encrypted", f.display())));
                }
                let blob = secrets::encrypt(&data, &secret)?;
                let dest = output.clone().unwrap_or_else(|| f.clone());
                write_output(&dest, blob.as_bytes(), 0o600)?;
            }
            eprintln!("Encryption successful");
            Ok(0)
        }
        VaultCommand::Decrypt {
            files,
            opts,
            output,
        } => {
            let files = inputs(&files);
            check_output(&files, &output)?;
            let secrets = read_secrets(&opts)?;
            for f in &files {
                let data = read_input(f)?;
                let (plain, _) = decrypt_named(&secrets, &data, f)?;
                let dest = output.clone().unwrap_or_else(|| f.clone());
                write_output(&dest, &plain, 0o600)?;
            }
            eprintln!("Decryption successful");
            Ok(0)
        }
        VaultCommand::View { files, opts } => {
            let secrets = read_secrets(&opts)?;
            for f in &files {
                let data = read_input(f)?;
                let (mut plain, _) = decrypt_named(&secrets, &data, f)?;
                // As ansible-vault's pager output: always end with a newline.
                if !plain.is_empty() && !plain.ends_with(b"\n") {
                    plain.push(b'\n');
                }
                write_output(Path::new("-"), &plain, 0o600)?;
            }
            Ok(0)
        }
        VaultCommand::Edit {
            file,
            opts,
            encrypt_vault_id,
        } => {
            let secrets = read_secrets(&opts)?;
            let data = std::fs::read(&file).map_err(|e| Error::io_at(&file, &e))?;
            let (plain, label) = decrypt_named(&secrets, &data, &file)?;
            let secret = match encrypt_vault_id.as_deref() {
                Some(id) => secrets.for_encrypt(Some(id))?,
                None => secrets
                    .iter()
                    .find(|s| s.label == label)
                    .ok_or_else(|| fail("the secret that decrypted the file is gone"))?,
            };
            if let Some(new) = edit_in_editor(&file, &plain)? {
                let blob = secrets::encrypt(&new, secret)?;
                write_atomic(&file, blob.as_bytes(), existing_mode(&file))?;
            }
            Ok(0)
        }
        VaultCommand::Create {
            file,
            opts,
            encrypt_vault_id,
        } => {
            if file.exists() {
                return Err(fail(format!(
                    "{} exists, use 'drover vault edit' instead",
                    file.display()
                )));
            }
            let secret = encrypt_secret(&opts, encrypt_vault_id.as_deref())?;
            let new = edit_in_editor(&file, b"")?.unwrap_or_default();
            let blob = secrets::encrypt(&new, &secret)?;
            write_atomic(&file, blob.as_bytes(), 0o600)?;
            Ok(0)
        }
        VaultCommand::Rekey {
            files,
            opts,
            new_vault_password_file,
            new_vault_id,
        } => {
            let secrets = read_secrets(&opts)?;
            let new_id = match (new_vault_id.as_deref(), new_vault_password_file) {
                (Some(id), Some(file)) if !id.contains('@') => VaultId {
                    label: id.to_string(),
                    source: Source::File(file),
                },
                (Some(id), _) => VaultId::parse(id),
                (None, Some(file)) => VaultId::file(&file),
                (None, None) => VaultId::prompt(),
            };
            let new_secret = new_id.load(new_id.source == Source::Prompt)?;
            // Decrypt everything first: one bad file changes none.
            let mut plains = Vec::new();
            for f in &files {
                let data = std::fs::read(f).map_err(|e| Error::io_at(f, &e))?;
                plains.push(decrypt_named(&secrets, &data, f)?.0);
            }
            for (f, plain) in files.iter().zip(plains) {
                let blob = secrets::encrypt(&plain, &new_secret)?;
                write_atomic(f, blob.as_bytes(), existing_mode(f))?;
            }
            eprintln!("Rekey successful");
            Ok(0)
        }
        VaultCommand::EncryptString {
            strings,
            opts,
            names,
            stdin_name,
            prompt,
            output,
            encrypt_vault_id,
        } => {
            let secret = encrypt_secret(&opts, encrypt_vault_id.as_deref())?;
            let mut items: Vec<(Option<String>, Vec<u8>)> = Vec::new();
            if prompt {
                let text = rpassword::prompt_password("String to encrypt: ")
                    .map_err(|e| Error::io(format!("cannot prompt: {e}")).caused_by(e))?;
                items.push((names.first().cloned(), text.into_bytes()));
            } else if strings.is_empty() || stdin_name.is_some() {
                if std::io::stdin().is_terminal() {
                    eprintln!("Reading plaintext input from stdin. (ctrl-d to end input, twice if your content does not already have a newline)");
                }
                let data = read_input(Path::new("-"))?;
                if data.is_empty() {
                    return Err(fail("stdin was empty, not encrypting"));
                }
                items.push((stdin_name.or_else(|| names.first().cloned()), data));
            }
            if !prompt {
                for (i, s) in strings.into_iter().enumerate() {
                    items.push((names.get(i).cloned(), s.into_bytes()));
                }
            }
            let mut out = String::new();
            for (name, plain) in items {
                out.push_str(&inline_block(name.as_deref(), &plain, &secret)?);
            }
            match output {
                Some(p) => write_output(&p, out.as_bytes(), 0o600)?,
                None => write_output(Path::new("-"), out.as_bytes(), 0o600)?,
            }
            eprintln!("Encryption successful");
            Ok(0)
        }
    }
}

/// `NAME: !vault |` and the blob indented by 10 spaces, exactly as ansible-vault prints it.
fn inline_block(name: Option<&str>, plain: &[u8], secret: &VaultSecret) -> Result<String> {
    let blob = secrets::encrypt(plain, secret)?;
    let mut out = match name {
        Some(n) => format!("{n}: !vault |\n"),
        None => "!vault |\n".to_string(),
    };
    for line in blob.lines() {
        out.push_str("          ");
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

/// Write `plain` to a private temporary file, run `$EDITOR` on it and return the new
/// content if it changed. The temporary file is overwritten and removed in every case.
fn edit_in_editor(original: &Path, plain: &[u8]) -> Result<Option<Vec<u8>>> {
    use std::os::unix::fs::PermissionsExt;
    let io = |e: std::io::Error| Error::io(format!("cannot prepare the file to edit: {e}"));
    // A 0700 directory of our own: nobody else can even see the file name.
    let dir = tempfile::Builder::new()
        .prefix("drover-vault-")
        .tempdir()
        .map_err(io)?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    let name = original
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "vault".into());
    let path = dir.path().join(name);
    let guard = Shred(path.clone());
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io)?;
        f.write_all(plain).map_err(io)?;
    }
    let editor = std::env::var("EDITOR")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string());
    let mut argv = shlex::split(&editor)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| fail(format!("cannot parse $EDITOR '{editor}'")))?;
    let program = argv.remove(0);
    let status = std::process::Command::new(&program)
        .args(&argv)
        .arg(&path)
        .status()
        .map_err(|e| Error::io(format!("cannot run the editor '{program}': {e}")).caused_by(e))?;
    if !status.success() {
        return Err(fail(format!(
            "the editor '{program}' failed ({status}); the vault file is unchanged"
        )));
    }
    let new = std::fs::read(&path).map_err(io)?;
    drop(guard);
    Ok((new != plain).then_some(new))
}

/// Overwrites and removes a plaintext file when dropped (also on errors and panics).
struct Shred(PathBuf);

impl Drop for Shred {
    fn drop(&mut self) {
        if let Ok(meta) = std::fs::metadata(&self.0) {
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&self.0) {
                let zeros = vec![0u8; meta.len().min(64 * 1024 * 1024) as usize];
                let _ = f.write_all(&zeros);
                let _ = f.sync_all();
            }
        }
        let _ = std::fs::remove_file(&self.0);
    }
}
