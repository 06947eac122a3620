# The stack our users run, against moto on loopback instead of AWS.
# run.sh starts moto_server and passes its endpoint as var.endpoint.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "3.39.0"
    }
  }
}

variable "endpoint" {
  type    = string
  default = "http://127.0.0.1:5000"
}

variable "environment" {
  type    = string
  default = "staging"
}

variable "subnet_count" {
  type    = number
  default = 2
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "moto"
  secret_key                  = "moto"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_force_path_style         = true

  endpoints {
    ec2     = var.endpoint
    s3      = var.endpoint
    iam     = var.endpoint
    route53 = var.endpoint
    sts     = var.endpoint
  }
}

locals {
  name = "terrane-${var.environment}"
  tags = {
    Environment = var.environment
    ManagedBy   = "terrane"
  }
}

resource "aws_vpc" "main" {
  cidr_block           = "10.20.0.0/16"
  enable_dns_hostnames = true
  tags                 = merge(local.tags, { Name = local.name })
}

resource "aws_subnet" "private" {
  count             = var.subnet_count
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(aws_vpc.main.cidr_block, 8, count.index)
  availability_zone = "us-east-1${element(["a", "b", "c"], count.index)}"
  tags              = merge(local.tags, { Name = "${local.name}-private-${count.index}" })
}

resource "aws_security_group" "web" {
  name        = "${local.name}-web"
  description = "web servers"
  vpc_id      = aws_vpc.main.id

  ingress {
    description = "https"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "ssh from the vpc"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [aws_vpc.main.cidr_block]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = local.tags
}

resource "aws_instance" "web" {
  count                  = var.subnet_count
  ami                    = "ami-12c6146b"
  instance_type          = "t3.micro"
  subnet_id              = aws_subnet.private[count.index].id
  tags                   = merge(local.tags, { Name = "${local.name}-web-${count.index}" })
}

resource "aws_s3_bucket" "artifacts" {
  bucket = "${local.name}-artifacts"
  acl    = "private"
  tags   = local.tags
}

resource "aws_route53_zone" "internal" {
  name = "${var.environment}.terrane.internal"
}

resource "aws_route53_record" "web" {
  zone_id = aws_route53_zone.internal.zone_id
  name    = "web.${aws_route53_zone.internal.name}"
  type    = "A"
  ttl     = 300
  records = aws_instance.web[*].private_ip
}

resource "aws_iam_user" "deploy" {
  name = "${local.name}-deploy"
  path = "/ci/"
  tags = local.tags
}

output "vpc_id" {
  value = aws_vpc.main.id
}

output "subnet_cidrs" {
  value = aws_subnet.private[*].cidr_block
}

output "web_private_ips" {
  value = aws_instance.web[*].private_ip
}

output "bucket" {
  value = aws_s3_bucket.artifacts.bucket
}

output "dns_name" {
  value = aws_route53_record.web.fqdn
}

output "deploy_user_arn" {
  value = aws_iam_user.deploy.arn
}
