# VPC flow logs (var.flow_logs): every accepted and rejected connection, into a CloudWatch
# log group encrypted with its own KMS key (rotated), written by a role that can do
# nothing else.

data "aws_caller_identity" "current" {
  count = var.flow_logs ? 1 : 0
}

data "aws_partition" "current" {
  count = var.flow_logs ? 1 : 0
}

locals {
  flow_log_group_name = "/drover/${var.name}/vpc-flow-logs"
  account_id          = var.flow_logs ? data.aws_caller_identity.current[0].account_id : ""
  partition           = var.flow_logs ? data.aws_partition.current[0].partition : "aws"
  flow_log_group_arn  = "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:${local.flow_log_group_name}"
}

resource "aws_kms_key" "flow_logs" {
  count = var.flow_logs ? 1 : 0

  description             = "${var.name} VPC flow logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsUseForTheFlowLogGroup"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = local.flow_log_group_arn }
        }
      },
    ]
  })
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  count = var.flow_logs ? 1 : 0

  name              = local.flow_log_group_name
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = aws_kms_key.flow_logs[0].arn
}

resource "aws_iam_role" "flow_logs" {
  count = var.flow_logs ? 1 : 0

  name = "${var.name}-vpc-flow-logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
      }
    }]
  })
}

resource "aws_iam_role_policy" "flow_logs" {
  count = var.flow_logs ? 1 : 0

  name = "write-flow-logs"
  role = aws_iam_role.flow_logs[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      Resource = ["${aws_cloudwatch_log_group.flow_logs[0].arn}:*", aws_cloudwatch_log_group.flow_logs[0].arn]
    }]
  })
}

resource "aws_flow_log" "this" {
  count = var.flow_logs ? 1 : 0

  vpc_id                   = aws_vpc.this.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_logs[0].arn
  iam_role_arn             = aws_iam_role.flow_logs[0].arn
  max_aggregation_interval = 600
}
