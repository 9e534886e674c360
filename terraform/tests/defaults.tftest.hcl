# terraform test: the module's promises, against a mocked AWS provider (offline).
# Run: terraform init -backend=false && terraform test

mock_provider "aws" {
  mock_data "aws_ami" {
    defaults = {
      id = "ami-0123456789abcdef0"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  # ARNs the provider checks the syntax of.
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/drover/drover/vpc-flow-logs"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/drover-vpc-flow-logs"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    }
  }

  # Instance attributes the provider would compute: addresses that look like addresses.
  mock_resource "aws_instance" {
    defaults = {
      public_ip  = "203.0.113.50"
      private_ip = "10.0.1.50"
    }
  }
}

variables {
  ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDroverTestKeyOnlyForTerraformTests0000000 test"
}

run "nothing_is_open_to_the_world_by_default" {
  command = apply

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.stack_admin) == 0
    error_message = "With the default (empty) admin_cidrs no admin port may be opened."
  }

  assert {
    condition = alltrue([
      for r in aws_vpc_security_group_ingress_rule.stack_internal :
      r.referenced_security_group_id == aws_security_group.stack.id && r.cidr_ipv4 == null
    ])
    error_message = "Service ports must be open only to the stack's own security group."
  }

  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "The VPC's default security group must have no rules."
  }

  assert {
    condition     = length(aws_flow_log.this) == 1 && aws_cloudwatch_log_group.flow_logs[0].kms_key_id == aws_kms_key.flow_logs[0].arn
    error_message = "VPC flow logs are on by default, into a KMS-encrypted log group."
  }
}

run "one_host_per_group_and_everyone_forwards" {
  command = apply

  assert {
    condition     = length(module.host) == 4
    error_message = "The default stack has 4 hosts."
  }

  assert {
    condition     = join(",", sort(keys(module.host))) == "kafka-1,logging-1,monitoring-1,web-1"
    error_message = "Host names are logging-1, kafka-1, web-1, monitoring-1."
  }

  assert {
    condition = alltrue([
      for name, h in module.host : contains(h.groups, "forwarders") && contains(h.groups, "node_exporters") && contains(h.groups, split("-", name)[0])
    ])
    error_message = "Every host is in its role's group, forwarders and node_exporters."
  }
}

run "three_kafka_brokers" {
  command = apply

  variables {
    kafka_broker_count = 3
  }

  assert {
    condition     = length([for n, h in module.host : n if contains(h.groups, "kafka")]) == 3
    error_message = "kafka_broker_count = 3 gives three hosts in group kafka."
  }

  assert {
    condition     = length([for n, h in module.host : n if contains(h.groups, "logging")]) == 1 && length(module.host) == 6
    error_message = "The other groups keep one host each."
  }

  assert {
    condition     = [for h in output.inventory.hosts : h.name] == ["logging-1", "kafka-1", "kafka-2", "kafka-3", "web-1", "monitoring-1"]
    error_message = "The inventory lists the hosts in role order."
  }
}

run "two_kafka_brokers_are_refused" {
  command = plan

  variables {
    kafka_broker_count = 2
  }

  expect_failures = [var.kafka_broker_count]
}

run "every_instance_encrypted_and_imdsv2_only" {
  command = apply

  variables {
    private_hosts = true
    admin_cidrs   = ["198.51.100.0/24"]
  }

  assert {
    condition     = alltrue([for h in module.host : h.root_volume_encrypted && h.http_tokens == "required"])
    error_message = "Every host needs an encrypted root volume and IMDSv2 (http_tokens = required)."
  }

  assert {
    condition     = alltrue([for b in module.bastion : b.root_volume_encrypted && b.http_tokens == "required"])
    error_message = "The bastion needs an encrypted root volume and IMDSv2."
  }
}

run "world_admin_access_is_refused" {
  command = plan

  variables {
    admin_cidrs = ["0.0.0.0/0"]
  }

  expect_failures = [aws_security_group.stack]
}

run "world_admin_access_with_allow_world" {
  command = plan

  variables {
    admin_cidrs = ["0.0.0.0/0"]
    allow_world = true
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.stack_admin) == length(var.admin_ports)
    error_message = "allow_world = true lets 0.0.0.0/0 through, one rule per admin port."
  }
}

run "admin_networks_reach_ssh_and_uis_only" {
  command = apply

  variables {
    admin_cidrs = ["198.51.100.0/24"]
  }

  assert {
    condition     = join(",", sort([for r in aws_vpc_security_group_ingress_rule.stack_admin : tostring(r.from_port)])) == "22,3000,443,5601,80,9090"
    error_message = "Admin networks reach SSH, nginx and the UIs, nothing else."
  }

  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.stack_admin : r.cidr_ipv4 == "198.51.100.0/24"])
    error_message = "Admin rules name the admin network."
  }
}

run "inventory_output_public_layout" {
  command = apply

  assert {
    condition     = output.inventory.version == 1 && output.inventory.address == "public"
    error_message = "The inventory output is version 1 and uses public addresses in the public layout."
  }

  assert {
    condition     = [for h in output.inventory.hosts : h.name] == ["logging-1", "kafka-1", "web-1", "monitoring-1"]
    error_message = "Hosts in inventory order."
  }

  assert {
    condition = alltrue([
      for h in output.inventory.hosts :
      h.user == "ubuntu" && h.proxy_jump == null && h.public_address != null && h.private_address != null && length(h.groups) == 3
    ])
    error_message = "Every host has a user, both addresses, three groups and no jump host."
  }

  assert {
    condition     = [for h in output.inventory.hosts : h.groups[0]] == ["logging", "kafka", "web", "monitoring"]
    error_message = "The first group of each host is its role."
  }

  assert {
    condition     = [for n in ["logging-1", "kafka-1", "web-1", "monitoring-1"] : local.hosts[n].private_ip] == ["10.0.1.10", "10.0.1.11", "10.0.1.12", "10.0.1.13"]
    error_message = "Private addresses are 10.0.1.10-13 in inventory order, as inventory/example/hosts.yml."
  }
}

run "inventory_output_private_layout" {
  command = apply

  variables {
    private_hosts = true
    admin_cidrs   = ["198.51.100.0/24"]
  }

  assert {
    condition     = output.inventory.address == "private"
    error_message = "The private layout connects to private addresses."
  }

  assert {
    condition = alltrue([
      for h in output.inventory.hosts : h.public_address == null && h.proxy_jump == "ubuntu@203.0.113.50"
    ])
    error_message = "Private hosts have no public address and jump through the bastion."
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.stack_admin) == 0 && length(aws_vpc_security_group_ingress_rule.bastion_ssh) == 1
    error_message = "In the private layout only the bastion is reachable from the admin networks."
  }

  assert {
    condition     = local.hosts["logging-1"].private_ip == "10.0.2.10"
    error_message = "Private hosts live in the private subnet."
  }
}
