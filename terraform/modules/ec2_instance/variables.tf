variable "name" {
  description = "Host name: the Name tag and the inventory name."
  type        = string
}

variable "groups" {
  description = "drover inventory groups of the host (stored in the drover_groups tag)."
  type        = list(string)
}

variable "ami_id" {
  description = "AMI of the instance."
  type        = string
}

variable "instance_type" {
  description = "EC2 instance type."
  type        = string
}

variable "root_volume_size" {
  description = "Size of the encrypted gp3 root volume, in GiB."
  type        = number
}

variable "subnet_id" {
  description = "Subnet of the instance."
  type        = string
}

variable "private_ip" {
  description = "Fixed private address in the subnet (null: any)."
  type        = string
  default     = null
}

variable "associate_public_ip" {
  description = "Give the instance a public address."
  type        = bool
}

variable "security_group_ids" {
  description = "Security groups of the instance."
  type        = list(string)
}

variable "key_name" {
  description = "EC2 key pair for the login user."
  type        = string
}

variable "detailed_monitoring" {
  description = "CloudWatch detailed (1-minute) monitoring."
  type        = bool
  default     = true
}
