# Inputs of the afp Patroni module. Defaults match deploy/patroni/patroni.vars.

variable "cluster_name" {
  description = "Patroni scope (cluster name in etcd)."
  type        = string
  default     = "afp"
}

variable "nodes" {
  description = "PostgreSQL nodes: name and the address other nodes and clients reach it on."
  type = list(object({
    name    = string
    address = string
  }))
  validation {
    condition     = length(var.nodes) >= 2 && length(distinct([for n in var.nodes : n.name])) == length(var.nodes)
    error_message = "At least two nodes with distinct names."
  }
}

variable "etcd_nodes" {
  description = "etcd members (three or five): name and address."
  type = list(object({
    name    = string
    address = string
  }))
  validation {
    condition     = length(var.etcd_nodes) % 2 == 1
    error_message = "An odd number of etcd members."
  }
}

variable "allowed_cidr" {
  description = "Network allowed to connect (replication and clients, scram-sha-256)."
  type        = string
}

variable "superuser_password" {
  type      = string
  sensitive = true
}

variable "replication_password" {
  type      = string
  sensitive = true
}

variable "restapi_password" {
  description = "Password of the Patroni REST API user (also used by patronictl)."
  type        = string
  sensitive   = true
}

variable "restapi_user" {
  type    = string
  default = "patroni"
}

variable "delivery_database" {
  description = "Database drained by the afp workers and used by pg_cron."
  type        = string
  default     = "afp"
}

variable "synchronous_mode" {
  description = "Patroni synchronous_mode (acknowledged commits survive a failover; see deploy/patroni/README.md)."
  type        = bool
  default     = true
}

variable "synchronous_mode_strict" {
  type    = bool
  default = false
}

variable "ttl" {
  type    = number
  default = 30
}

variable "loop_wait" {
  type    = number
  default = 10
}

variable "retry_timeout" {
  type    = number
  default = 10
}

variable "primary_start_timeout" {
  type    = number
  default = 300
}

variable "max_worker_processes" {
  type    = number
  default = 16
}

variable "max_connections" {
  type    = number
  default = 200
}

variable "email_batch_size" {
  type    = number
  default = 100
}

variable "email_concurrency" {
  type    = number
  default = 8
}

variable "poll_interval_ms" {
  type    = number
  default = 1000
}

variable "watchdog_mode" {
  type    = string
  default = "automatic"
}

variable "data_dir" {
  type    = string
  default = "/var/lib/postgresql/15/afp"
}

variable "afp_install_commands" {
  description = "Shell commands (run by cloud-init as root) that install the afp extension on a PostgreSQL node, e.g. building it from a checkout with `make && make install`. afp has no Debian package; an empty list leaves it to you, and Patroni's bootstrap fails until afp.so is installed."
  type        = list(string)
  default     = []
}
