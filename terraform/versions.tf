terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }

  # State is local (terraform.tfstate beside this file) by default, which is what
  # `drover inventory -i terraform/` reads. For a team or CI, keep it in S3 instead:
  # uncomment this block, create the bucket (versioned, encrypted, public access blocked)
  # and run `terraform init -migrate-state`. Locking: `use_lockfile = true` (an S3 lock
  # object, Terraform >= 1.10) or, for older Terraform, a DynamoDB table with a string
  # hash key `LockID` named in `dynamodb_table`. With remote state, drover runs
  # `terraform output -json` in this directory (terraform on PATH) to read the inventory.
  #
  # backend "s3" {
  #   bucket         = "example-drover-tfstate"
  #   key            = "platform/terraform.tfstate"
  #   region         = "eu-west-1"
  #   encrypt        = true
  #   use_lockfile   = true
  #   # dynamodb_table = "drover-tfstate-lock"   # Terraform < 1.10
  # }
}
