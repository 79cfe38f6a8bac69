# tls_allow_invalid_certificates = true
resource "aws_ecs_task_definition" "api" {
  container_definitions = jsonencode([{
    environment = [
      { name = "MONGODB_TLS_ALLOW_INVALID_CERTIFICATES", value = "true" }, # expect: allow-invalid-certificates
      { name = "MONGODB_URI", value = var.mongodb_uri },
    ]
  }])
}

locals {
  mongodb_tls_insecure = true # expect: tls-insecure
}
