variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "eu-west-1"
}

variable "availability_zone" {
  description = "Availability zone of the subnets; empty means the region's zone \"a\"."
  type        = string
  default     = ""
}

variable "name" {
  description = "Prefix of every resource name and the `Name` tags."
  type        = string
  default     = "drover"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}$", var.name))
    error_message = "name must be 1-21 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.0.0.0/16"
}

variable "public_subnet_cidr" {
  description = "CIDR block of the public subnet (hosts in the public layout, the bastion and NAT gateway in the private one)."
  type        = string
  default     = "10.0.1.0/24"
}

variable "private_subnet_cidr" {
  description = "CIDR block of the private subnet (hosts in the private layout)."
  type        = string
  default     = "10.0.2.0/24"
}

variable "private_hosts" {
  description = "Private layout: the hosts get no public address and live in a private subnet (outbound through a NAT gateway); one bastion in the public subnet is the SSH jump host, and the inventory output carries a ProxyJump through it."
  type        = bool
  default     = false
}

variable "admin_cidrs" {
  description = "Networks allowed to reach SSH (22) and the UIs (nginx 80/443, Kibana 5601, Grafana 3000, Prometheus 9090). Empty (the default) opens nothing to the outside."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.admin_cidrs : can(cidrhost(c, 0))])
    error_message = "Every admin_cidrs entry must be a CIDR block such as 198.51.100.0/24."
  }
}

variable "allow_world" {
  description = "Set to true to allow 0.0.0.0/0 or ::/0 in admin_cidrs (refused otherwise)."
  type        = bool
  default     = false
}

variable "admin_ports" {
  description = "Ports opened to admin_cidrs: SSH, nginx, Kibana, Grafana, Prometheus."
  type        = list(number)
  default     = [22, 80, 443, 3000, 5601, 9090]
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed for ssh_user on every instance (the key pair)."
  type        = string

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+", var.ssh_public_key))
    error_message = "ssh_public_key must be an OpenSSH public key line (ssh-ed25519 AAAA...)."
  }
}

variable "ssh_user" {
  description = "Login user of the AMI (ubuntu for Canonical's images); the inventory's ansible_user."
  type        = string
  default     = "ubuntu"
}

variable "ami_id" {
  description = "AMI to use instead of the newest Canonical Ubuntu 24.04 image (empty: look it up)."
  type        = string
  default     = ""
}

variable "ami_name_filter" {
  description = "Name pattern of the Ubuntu image looked up among Canonical's (owner 099720109477)."
  type        = string
  default     = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
}

variable "kafka_broker_count" {
  description = "Number of Kafka hosts (KRaft: 1 for a test stack, 3 for a quorum)."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 3], var.kafka_broker_count)
    error_message = "kafka_broker_count must be 1 or 3 (a KRaft quorum needs an odd count; 3 is the smallest that survives a loss)."
  }
}

variable "instance_types" {
  description = "Instance type per role."
  type = object({
    logging    = string
    kafka      = string
    web        = string
    monitoring = string
  })
  default = {
    logging    = "r6i.large"
    kafka      = "m6i.large"
    web        = "t3.small"
    monitoring = "t3.medium"
  }
}

variable "root_volume_sizes" {
  description = "Root volume size (GiB, gp3, encrypted) per role."
  type = object({
    logging    = number
    kafka      = number
    web        = number
    monitoring = number
  })
  default = {
    logging    = 100
    kafka      = 50
    web        = 20
    monitoring = 50
  }

  validation {
    condition     = alltrue([for s in values(var.root_volume_sizes) : s >= 8 && s <= 16384])
    error_message = "Root volume sizes must be between 8 and 16384 GiB."
  }
}

variable "bastion_instance_type" {
  description = "Instance type of the bastion (private layout only)."
  type        = string
  default     = "t3.micro"
}

variable "detailed_monitoring" {
  description = "CloudWatch detailed (1-minute) monitoring of the instances (false only for EC2 emulators that lack it)."
  type        = bool
  default     = true
}

variable "flow_logs" {
  description = "VPC flow logs (all traffic) into a KMS-encrypted CloudWatch log group."
  type        = bool
  default     = true
}

variable "flow_log_retention_days" {
  description = "Days the flow logs are kept."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
