# One host: encrypted gp3 root volume, IMDSv2 only, detailed monitoring, EBS optimized,
# its drover groups in the drover_groups tag.
resource "aws_instance" "this" {
  #checkov:skip=CKV2_AWS_41:The hosts call no AWS API; an instance profile would only add unused privilege.
  #checkov:skip=CKV_AWS_88:In the public layout the hosts (and in the private one the bastion) must be reachable from the admin networks; the security groups limit who can connect.
  ami                         = var.ami_id
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  private_ip                  = var.private_ip
  associate_public_ip_address = var.associate_public_ip
  vpc_security_group_ids      = var.security_group_ids
  key_name                    = var.key_name
  monitoring                  = var.detailed_monitoring
  ebs_optimized               = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size
    encrypted             = true
    delete_on_termination = true
  }

  tags = {
    Name          = var.name
    drover_host   = var.name
    drover_groups = join(",", var.groups)
  }

  lifecycle {
    # A newer Ubuntu image must not replace running hosts; roll them on purpose.
    ignore_changes = [ami]
  }
}
