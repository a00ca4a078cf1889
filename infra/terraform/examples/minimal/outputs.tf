output "bucket_name" {
  description = "Drop CSV files under raw-data/ of this bucket."
  value       = module.bucket.bucket_id
}

output "table_name" {
  description = "Table the rows are loaded into."
  value       = module.table.table_name
}

output "function_name" {
  description = "Loader function."
  value       = module.loader.lambda_function_name
}
