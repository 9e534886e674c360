output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

# The outputs holding public addresses are sensitive: `terraform plan`/`apply` print
# them as (sensitive value), so they stay out of CI logs; `terraform output -json` and
# the state still hold them (drover reads them there).

output "bastion_address" {
  description = "Public address of the bastion (private layout), else null."
  sensitive   = true
  value       = var.private_hosts ? module.bastion[0].public_ip : null
}

output "hosts" {
  description = "Host name => instance ID, public and private address."
  sensitive   = true
  value = {
    for name, h in module.host : name => {
      id              = h.id
      public_address  = h.public_ip
      private_address = h.private_ip
    }
  }
}

# The drover inventory (shape version 1, see README.md): `drover inventory -i terraform/`
# reads it from the state, `-i tf.json` from a saved `terraform output -json`.
output "inventory" {
  description = "The hosts as a drover inventory: names, groups (from the drover_groups tags), addresses, user, ProxyJump in the private layout."
  sensitive   = true
  value = {
    version = 1
    address = var.private_hosts ? "private" : "public"
    vars    = {}
    hosts = [
      for h in local.host_list : {
        name            = h.name
        groups          = module.host[h.name].groups
        public_address  = var.private_hosts ? null : module.host[h.name].public_ip
        private_address = module.host[h.name].private_ip
        user            = var.ssh_user
        port            = null
        proxy_jump      = var.private_hosts ? "${var.ssh_user}@${module.bastion[0].public_ip}" : null
        vars            = {}
      }
    ]
  }
}
