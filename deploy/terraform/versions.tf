# No provider: the module only renders files (Patroni configuration, cloud-init user data) with
# Terraform's built-in functions, so `terraform init` needs no network. Pass its outputs to the
# compute resources of your platform (see README.md).
terraform {
  required_version = ">= 1.3"
}
