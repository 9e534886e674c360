# The network: one VPC, a public subnet with an internet gateway, and in the private
# layout (var.private_hosts) a private subnet whose traffic leaves through a NAT gateway.

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = var.name }
}

# No rule at all on the VPC's default security group: nothing may use it by accident.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-default-closed" }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = var.name }
}

resource "aws_subnet" "public" {
  vpc_id            = aws_vpc.this.id
  cidr_block        = var.public_subnet_cidr
  availability_zone = local.availability_zone
  # Public addresses are given per instance (explicitly), never by default.
  map_public_ip_on_launch = false

  tags = { Name = "${var.name}-public" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-public" }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_subnet" "private" {
  count = var.private_hosts ? 1 : 0

  vpc_id                  = aws_vpc.this.id
  cidr_block              = var.private_subnet_cidr
  availability_zone       = local.availability_zone
  map_public_ip_on_launch = false

  tags = { Name = "${var.name}-private" }
}

resource "aws_eip" "nat" {
  count = var.private_hosts ? 1 : 0

  domain = "vpc"

  tags = { Name = "${var.name}-nat" }
}

resource "aws_nat_gateway" "this" {
  count = var.private_hosts ? 1 : 0

  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public.id

  tags       = { Name = var.name }
  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "private" {
  count = var.private_hosts ? 1 : 0

  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-private" }
}

resource "aws_route" "private_nat" {
  count = var.private_hosts ? 1 : 0

  route_table_id         = aws_route_table.private[0].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[0].id
}

resource "aws_route_table_association" "private" {
  count = var.private_hosts ? 1 : 0

  subnet_id      = aws_subnet.private[0].id
  route_table_id = aws_route_table.private[0].id
}

# --- Security groups -------------------------------------------------------------------

# Every host of the stack. Service ports are open only to members of this same group.
resource "aws_security_group" "stack" {
  name        = "${var.name}-stack"
  description = "Hosts of the ${var.name} log and metrics stack"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-stack" }

  lifecycle {
    precondition {
      condition     = var.allow_world || length(setintersection(var.admin_cidrs, ["0.0.0.0/0", "::/0"])) == 0
      error_message = "admin_cidrs contains 0.0.0.0/0 or ::/0, which opens SSH and the UIs to the whole internet. Name your networks instead, or set allow_world = true if you really mean it."
    }
  }
}

resource "aws_vpc_security_group_ingress_rule" "stack_internal" {
  #checkov:skip=CKV_AWS_260:False positive: the source is the stack's own security group (referenced_security_group_id), no CIDR at all, so port 80 is not open to 0.0.0.0/0.
  for_each = local.internal_ports

  security_group_id            = aws_security_group.stack.id
  referenced_security_group_id = aws_security_group.stack.id
  ip_protocol                  = "tcp"
  from_port                    = each.value.from
  to_port                      = each.value.to
  description                  = "${each.key} from the stack's own hosts"
}

# SSH and the UIs from the admin networks: to the hosts in the public layout, to the
# bastion (SSH only) in the private one.
resource "aws_vpc_security_group_ingress_rule" "stack_admin" {
  for_each = var.private_hosts ? {} : local.admin_rules

  security_group_id = aws_security_group.stack.id
  cidr_ipv4         = strcontains(each.value.cidr, ":") ? null : each.value.cidr
  cidr_ipv6         = strcontains(each.value.cidr, ":") ? each.value.cidr : null
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  description       = "Admin access to port ${each.value.port} from ${each.value.cidr}"
}

# Private layout: SSH and the UIs (for tunnels) from the bastion.
resource "aws_vpc_security_group_ingress_rule" "stack_from_bastion" {
  for_each = var.private_hosts ? toset([for p in var.admin_ports : tostring(p)]) : toset([])

  security_group_id            = aws_security_group.stack.id
  referenced_security_group_id = aws_security_group.bastion[0].id
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.value)
  to_port                      = tonumber(each.value)
  description                  = "Port ${each.value} from the bastion"
}

resource "aws_vpc_security_group_egress_rule" "stack_internal" {
  security_group_id            = aws_security_group.stack.id
  referenced_security_group_id = aws_security_group.stack.id
  ip_protocol                  = "tcp"
  from_port                    = 0
  to_port                      = 65535
  description                  = "Any TCP port to the stack's own hosts"
}

# Package repositories (apt, Elastic, Grafana) over HTTP(S); nothing else leaves.
resource "aws_vpc_security_group_egress_rule" "stack_web" {
  for_each = toset(["80", "443"])

  security_group_id = aws_security_group.stack.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  description       = "HTTP(S) out, for package repositories"
}

resource "aws_security_group" "bastion" {
  count = var.private_hosts ? 1 : 0

  name        = "${var.name}-bastion"
  description = "SSH jump host of the ${var.name} stack"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-bastion" }

  lifecycle {
    precondition {
      condition     = var.allow_world || length(setintersection(var.admin_cidrs, ["0.0.0.0/0", "::/0"])) == 0
      error_message = "admin_cidrs contains 0.0.0.0/0 or ::/0, which opens SSH to the whole internet. Name your networks instead, or set allow_world = true if you really mean it."
    }
  }
}

resource "aws_vpc_security_group_ingress_rule" "bastion_ssh" {
  for_each = var.private_hosts ? toset(var.admin_cidrs) : toset([])

  security_group_id = aws_security_group.bastion[0].id
  cidr_ipv4         = strcontains(each.value, ":") ? null : each.value
  cidr_ipv6         = strcontains(each.value, ":") ? each.value : null
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  description       = "SSH from ${each.value}"
}

resource "aws_vpc_security_group_egress_rule" "bastion_to_stack" {
  for_each = var.private_hosts ? toset([for p in var.admin_ports : tostring(p)]) : toset([])

  security_group_id            = aws_security_group.bastion[0].id
  referenced_security_group_id = aws_security_group.stack.id
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.value)
  to_port                      = tonumber(each.value)
  description                  = "Port ${each.value} to the stack's hosts"
}
