# Outputs: hand the cloud-init documents to the user_data of your compute resources.

output "patroni_config" {
  description = "Rendered /etc/patroni/config.yml per PostgreSQL node (contains passwords)."
  value       = local.patroni_config
  sensitive   = true
}

output "postgres_cloud_init" {
  description = "cloud-init user data per PostgreSQL node (contains passwords)."
  value       = local.postgres_cloud_init
  sensitive   = true
}

output "etcd_cloud_init" {
  description = "cloud-init user data per etcd member."
  value       = local.etcd_cloud_init
}

output "etcd_hosts" {
  description = "The etcd client endpoints Patroni uses."
  value       = local.etcd_hosts
}
