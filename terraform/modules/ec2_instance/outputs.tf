output "id" {
  description = "Instance ID."
  value       = aws_instance.this.id
}

output "name" {
  description = "Host name (the Name tag)."
  value       = aws_instance.this.tags["Name"]
}

output "groups" {
  description = "drover groups, read back from the drover_groups tag."
  value       = compact(split(",", aws_instance.this.tags["drover_groups"]))
}

output "public_ip" {
  description = "Public address (empty without one)."
  value       = aws_instance.this.public_ip
}

output "private_ip" {
  description = "Private address."
  value       = aws_instance.this.private_ip
}

output "root_volume_encrypted" {
  description = "Whether the root volume is encrypted."
  value       = aws_instance.this.root_block_device[0].encrypted
}

output "http_tokens" {
  description = "IMDS token setting (\"required\" = IMDSv2 only)."
  value       = aws_instance.this.metadata_options[0].http_tokens
}
