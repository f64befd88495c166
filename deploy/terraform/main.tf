# Renders, per PostgreSQL node, deploy/patroni/patroni.yml (the same template render.sh fills in)
# and a cloud-init user-data document that installs PostgreSQL 15, pg_cron, Patroni and afp and
# starts Patroni; per etcd member, a cloud-init document that configures and starts etcd.

locals {
  patroni_dir = "${path.module}/../patroni"
  etcd_hosts  = join(",", [for e in var.etcd_nodes : "${e.address}:2379"])

  # values shared by every node (names as in deploy/patroni/patroni.vars)
  common = {
    scope                   = var.cluster_name
    restapi_user            = var.restapi_user
    restapi_password        = var.restapi_password
    etcd_hosts              = local.etcd_hosts
    watchdog_mode           = var.watchdog_mode
    ttl                     = var.ttl
    loop_wait               = var.loop_wait
    retry_timeout           = var.retry_timeout
    primary_start_timeout   = var.primary_start_timeout
    synchronous_mode        = var.synchronous_mode
    synchronous_mode_strict = var.synchronous_mode_strict
    max_worker_processes    = var.max_worker_processes
    max_connections         = var.max_connections
    delivery_database       = var.delivery_database
    email_batch_size        = var.email_batch_size
    email_concurrency       = var.email_concurrency
    poll_interval_ms        = var.poll_interval_ms
    post_init               = "/etc/patroni/afp-post-init.sh"
    data_dir                = var.data_dir
    bin_dir                 = "/usr/lib/postgresql/15/bin"
    pgpass                  = "/var/lib/postgresql/.pgpass_patroni"
    socket_dir              = "/var/run/postgresql"
    superuser_password      = var.superuser_password
    replication_password    = var.replication_password
    allowed_cidr            = var.allowed_cidr
  }

  patroni_config = {
    for n in var.nodes : n.name => templatefile("${local.patroni_dir}/patroni.yml", merge(local.common, {
      name            = n.name
      restapi_listen  = "0.0.0.0:8008"
      restapi_connect = "${n.address}:8008"
      pg_listen       = "0.0.0.0:5432"
      pg_connect      = "${n.address}:5432"
    }))
  }

  postgres_cloud_init = {
    for n in var.nodes : n.name => templatefile("${path.module}/cloud-init-postgres.yaml.tftpl", {
      patroni_config_b64 = base64encode(local.patroni_config[n.name])
      post_init_b64      = base64encode(file("${local.patroni_dir}/afp-post-init.sh"))
      data_dir           = var.data_dir
      install_commands   = var.afp_install_commands
    })
  }

  etcd_cluster = join(",", [for e in var.etcd_nodes : "${e.name}=http://${e.address}:2380"])

  etcd_cloud_init = {
    for e in var.etcd_nodes : e.name => templatefile("${path.module}/cloud-init-etcd.yaml.tftpl", {
      name          = e.name
      address       = e.address
      cluster       = local.etcd_cluster
      cluster_token = "${var.cluster_name}-etcd"
    })
  }
}
