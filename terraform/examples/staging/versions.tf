terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
    google = {
      source  = "hashicorp/google"
      version = ">= 5.22, < 8.0"
    }
  }

  # Keep the state in a remote backend with locking (e.g. an S3 bucket with a DynamoDB table, or a GCS bucket),
  # never in the repository: it holds resource ids and, with create_keys, service account keys.
  # backend "gcs" {}
}

provider "aws" {
  region = var.aws_region
}

provider "google" {
  project = var.gcp_project
  region  = var.gcp_region
}
