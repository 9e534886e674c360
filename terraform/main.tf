provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, { "drover:stack" = var.name })
  }
}

locals {
  availability_zone = var.availability_zone != "" ? var.availability_zone : "${var.region}a"

  # Roles in inventory order, with their host counts. Every host is also a log
  # forwarder (fluent-bit) and runs node_exporter.
  role_counts = {
    logging    = 1
    kafka      = var.kafka_broker_count
    web        = 1
    monitoring = 1
  }
  role_order    = ["logging", "kafka", "web", "monitoring"]
  common_groups = ["forwarders", "node_exporters"]

  # One entry per host, in inventory order: logging-1, kafka-1[..3], web-1, monitoring-1.
  host_list = flatten([
    for role in local.role_order : [
      for i in range(local.role_counts[role]) : {
        name   = "${role}-${i + 1}"
        role   = role
        groups = concat([role], local.common_groups)
      }
    ]
  ])
  hosts = {
    for idx, h in local.host_list : h.name => merge(h, {
      # Fixed private addresses from .10 on, in inventory order (10.0.1.10 = logging-1).
      private_ip = cidrhost(local.host_subnet_cidr, 10 + idx)
    })
  }

  host_subnet_cidr = var.private_hosts ? var.private_subnet_cidr : var.public_subnet_cidr
  host_subnet_id   = var.private_hosts ? aws_subnet.private[0].id : aws_subnet.public.id
  ami_id           = var.ami_id != "" ? var.ami_id : data.aws_ami.ubuntu[0].id

  # Service ports reachable only from the stack's own security group.
  internal_ports = {
    kafka           = { from = 9092, to = 9093 }
    elasticsearch   = { from = 9200, to = 9200 }
    forward         = { from = 24224, to = 24224 }
    node_exporter   = { from = 9100, to = 9100 }
    kafka_exporter  = { from = 9308, to = 9308 }
    es_exporter     = { from = 9114, to = 9114 }
    fluent_bit_http = { from = 2020, to = 2020 }
    nginx_http      = { from = 80, to = 80 }
    kibana          = { from = 5601, to = 5601 }
    grafana         = { from = 3000, to = 3000 }
    prometheus      = { from = 9090, to = 9090 }
  }

  admin_rules = {
    for pair in setproduct(var.admin_cidrs, var.admin_ports) :
    "${pair[0]}:${pair[1]}" => { cidr = pair[0], port = pair[1] }
  }
}

data "aws_ami" "ubuntu" {
  count = var.ami_id == "" ? 1 : 0

  most_recent = true
  owners      = ["099720109477"] # Canonical

  filter {
    name   = "name"
    values = [var.ami_name_filter]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

resource "aws_key_pair" "this" {
  key_name   = "${var.name}-deploy"
  public_key = var.ssh_public_key
}

module "host" {
  source   = "./modules/ec2_instance"
  for_each = local.hosts

  name                = each.key
  groups              = each.value.groups
  ami_id              = local.ami_id
  instance_type       = var.instance_types[each.value.role]
  root_volume_size    = var.root_volume_sizes[each.value.role]
  subnet_id           = local.host_subnet_id
  private_ip          = each.value.private_ip
  associate_public_ip = !var.private_hosts
  security_group_ids  = [aws_security_group.stack.id]
  key_name            = aws_key_pair.this.key_name
  detailed_monitoring = var.detailed_monitoring
}

module "bastion" {
  source = "./modules/ec2_instance"
  count  = var.private_hosts ? 1 : 0

  name                = "${var.name}-bastion"
  groups              = []
  ami_id              = local.ami_id
  instance_type       = var.bastion_instance_type
  root_volume_size    = 8
  subnet_id           = aws_subnet.public.id
  private_ip          = cidrhost(var.public_subnet_cidr, 5)
  associate_public_ip = true
  security_group_ids  = [aws_security_group.bastion[0].id]
  key_name            = aws_key_pair.this.key_name
  detailed_monitoring = var.detailed_monitoring
}
