data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  create       = var.create
  queue_mode   = var.create && var.trigger == "queue"
  direct_mode  = var.create && var.trigger == "direct"
  mapping_mode = local.queue_mode && var.create_event_source_mapping
  partition    = data.aws_partition.current.partition
  account_id   = data.aws_caller_identity.current.account_id
  region       = data.aws_region.current.name

  role_name      = coalesce(var.role_name, var.function_name)
  log_group_name = "/aws/lambda/${var.function_name}"
  function_arn   = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.function_name}"
  queue_name     = coalesce(var.queue.name, "${var.function_name}-events")

  # ARNs are built from names (known at plan time) so the role policy can be reviewed in the plan.
  arn_prefix       = "arn:${local.partition}"
  bucket_arn       = "${local.arn_prefix}:s3:::${var.bucket_name}"
  ledger_table_arn = "${local.arn_prefix}:dynamodb:${local.region}:${local.account_id}:table/${var.ledger_table_name}"
  topic_arn        = "${local.arn_prefix}:sns:${local.region}:${local.account_id}:${var.topic_name}"
  dlq_arn          = "${local.arn_prefix}:sqs:${local.region}:${local.account_id}:${var.dlq_name}"
  queue_arn        = "${local.arn_prefix}:sqs:${local.region}:${local.account_id}:${local.queue_name}"

  # TARIUS_MAPPING as s3://bucket/key: the object the function reads once per execution environment.
  mapping_object_arn = var.mapping != null && startswith(coalesce(var.mapping, "-"), "s3://") ? "${local.arn_prefix}:s3:::${trimprefix(coalesce(var.mapping, "-"), "s3://")}" : null

  # TARIUS_DEADLINE_MARGIN_MS: stop and hand the rest of a file to a new invocation this long before the timeout:
  # 10 % of it, 5-60 s.
  deadline_margin_ms = min(60000, max(5000, var.timeout * 100))

  # A message must stay hidden while the function may still work on it (AWS recommends 6x the timeout).
  min_visibility_timeout = 6 * var.timeout
  visibility_timeout     = coalesce(var.queue.visibility_timeout_seconds, local.min_visibility_timeout)

  # Feeds: what the function reads, writes and loads into. Without a feeds document, the one feed of
  # prefixes.landing into table_name.
  landing_prefixes = var.feeds == null ? [var.prefixes.landing] : var.feeds.landing_prefixes
  rejects_prefixes = var.feeds == null ? [var.prefixes.rejects] : var.feeds.rejects_prefixes
  reports_prefixes = var.feeds == null ? [var.prefixes.reports] : var.feeds.reports_prefixes
  # TARIUS_FEEDS as s3://bucket/key (a document too large for the environment): the object the function reads
  # once per execution environment.
  feeds_object_arn = try("${local.arn_prefix}:s3:::${var.feeds.document_object}", null)
  snapshot_areas   = var.feeds == null ? [] : var.feeds.snapshot_areas
  table_actions    = var.feeds == null ? { (var.table_name) = ["dynamodb:BatchWriteItem", "dynamodb:DescribeTable"] } : var.feeds.table_actions

  # One statement per set of actions, naming every table that needs exactly that set: "WriteTable" for the put
  # tables (BatchWriteItem), "WriteTable<Actions>" for the others; "WriteMappedTable..." likewise for the tables
  # not described (their feeds' mappings name the keys, so the loader never calls DescribeTable on them).
  table_grants = { for actions, tables in { for t, a in local.table_actions : join(",", sort(a)) => t... } : actions => sort(tables) }
  table_grant_sids = { for actions in keys(local.table_grants) : actions => join("", concat(
    [contains(split(",", actions), "dynamodb:DescribeTable") ? "WriteTable" : "WriteMappedTable"],
    [for a in split(",", actions) : trimprefix(a, "dynamodb:") if a != "dynamodb:DescribeTable" && actions != "dynamodb:BatchWriteItem" && actions != "dynamodb:BatchWriteItem,dynamodb:DescribeTable"],
  )) }

  environment = merge(
    var.feeds == null ? {
      TARIUS_TABLE          = var.table_name
      TARIUS_LANDING_PREFIX = var.prefixes.landing
      } : {
      TARIUS_FEEDS = var.feeds.document
    },
    {
      TARIUS_LEDGER_TABLE       = var.ledger_table_name
      TARIUS_TOPIC_ARN          = local.topic_arn
      TARIUS_REJECTS_PREFIX     = var.prefixes.rejects
      TARIUS_REPORTS_PREFIX     = var.prefixes.reports
      TARIUS_KMS_KEY_ARN        = var.kms_key_arn
      TARIUS_LOG_LEVEL          = var.log_level
      TARIUS_DEADLINE_MARGIN_MS = tostring(local.deadline_margin_ms)
    },
    var.max_wcu == null ? {} : { TARIUS_MAX_WCU = tostring(var.max_wcu) },
    var.mapping == null ? {} : { TARIUS_MAPPING = var.mapping },
    var.environment,
  )
}

data "aws_iam_policy_document" "assume" {
  count = local.create ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  count = local.create ? 1 : 0

  name                 = local.role_name
  assume_role_policy   = data.aws_iam_policy_document.assume[0].json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

# What a load calls, whoever runs it (the function or `tarius worker`). Every action here is one the code calls
# (tests/python/test_iam_actions.py records them over every trigger mode and compares them with the plan).
data "aws_iam_policy_document" "load" {
  count = local.create ? 1 : 0

  # The bucket is versioned, so S3 and EventBridge events carry the object's version and the loader reads exactly
  # that version: GetObject with versionId, which IAM authorises as s3:GetObjectVersion (not s3:GetObject).
  statement {
    sid       = "ReadLanding"
    actions   = ["s3:GetObjectVersion"]
    resources = [for p in local.landing_prefixes : "${local.bucket_arn}/${p}*"]
  }

  statement {
    sid       = "WriteRejectsAndReports"
    actions   = ["s3:PutObject"]
    resources = [for p in concat(local.rejects_prefixes, local.reports_prefixes) : "${local.bucket_arn}/${p}*"]
  }

  # Large rejects files are multipart uploads (s3:PutObject); a failed one is aborted so its parts do not linger.
  statement {
    sid       = "AbortRejectsUploads"
    actions   = ["s3:AbortMultipartUpload"]
    resources = [for p in local.rejects_prefixes : "${local.bucket_arn}/${p}*"]
  }

  # Snapshot feeds keep their state (state.json, small PutObjects) and digests (<load id>.digest, uploaded like the
  # rejects: multipart when large, aborted when that fails) under <digests_prefix><feed>/, SSE-KMS with the stack's
  # key (UseKey), read them back (GetObject, no version: the latest state), and delete the digests a committed
  # snapshot replaced (DeleteObject; the bucket's lifecycle expires the noncurrent versions).
  dynamic "statement" {
    for_each = length(local.snapshot_areas) > 0 ? [1] : []

    content {
      sid       = "SnapshotDigests"
      actions   = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
      resources = [for p in local.snapshot_areas : "${local.bucket_arn}/${p}*"]
    }
  }

  # A feed's first snapshot finds no state.json, which the loader reads as "no snapshot yet" when S3 answers 404
  # NoSuchKey. S3 answers 404 for a missing key only to a caller allowed s3:ListBucket, 403 AccessDenied otherwise
  # (S3 API Reference, GetObject, Permissions) - and an AccessDenied must stay an error. S3 evaluates that check
  # with the requested key as s3:prefix, so listing is granted within the feeds' snapshot areas only.
  dynamic "statement" {
    for_each = length(local.snapshot_areas) > 0 ? [1] : []

    content {
      sid       = "FindSnapshotState"
      actions   = ["s3:ListBucket"]
      resources = [local.bucket_arn]

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = [for p in local.snapshot_areas : "${p}*"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.feeds_object_arn == null ? [] : [local.feeds_object_arn]

    content {
      sid       = "ReadFeeds"
      actions   = ["s3:GetObject"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.mapping_object_arn == null ? [] : [local.mapping_object_arn]

    content {
      sid       = "ReadMapping"
      actions   = ["s3:GetObject"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.table_grants

    content {
      sid       = local.table_grant_sids[statement.key]
      actions   = split(",", statement.key)
      resources = [for t in statement.value : "${local.arn_prefix}:dynamodb:${local.region}:${local.account_id}:table/${t}"]
    }
  }

  statement {
    sid       = "Ledger"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [local.ledger_table_arn]
  }

  statement {
    sid       = "PublishSummary"
    actions   = ["sns:Publish"]
    resources = [local.topic_arn]
  }

  # SSE-KMS objects and the encrypted topic: S3 and SNS use the key with the caller's permissions. Only through
  # them: the key cannot be used directly.
  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "sns.${local.region}.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "this" {
  count = local.create ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.load[0].json]

  # Used by Lambda itself: the function's output goes to its log group.
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}:*"]
  }

  # Direct trigger: a load that nears the timeout hands the rest of the file to a new invocation of itself.
  dynamic "statement" {
    for_each = local.direct_mode ? [1] : []

    content {
      sid       = "Continuation"
      actions   = ["lambda:InvokeFunction"]
      resources = [local.function_arn]
    }
  }

  # Direct trigger: Lambda sends the events that failed every attempt to the on-failure destination with this role.
  # (Queue trigger: SQS moves them by its redrive policy, which needs no permission of the role.)
  dynamic "statement" {
    for_each = local.direct_mode ? [1] : []

    content {
      sid       = "DeadLetter"
      actions   = ["sqs:SendMessage"]
      resources = [local.dlq_arn]
    }
  }

  # Queue trigger: the event source mapping polls with this role; a load that nears the timeout continues through
  # a message on the same queue.
  dynamic "statement" {
    for_each = local.mapping_mode ? [1] : []

    content {
      sid       = "ConsumeEvents"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      resources = [local.queue_arn]
    }
  }

  dynamic "statement" {
    for_each = local.mapping_mode ? [1] : []

    content {
      sid       = "ContinueThroughQueue"
      actions   = ["sqs:SendMessage"]
      resources = [local.queue_arn]
    }
  }

  # The encrypted queues: sending (dead letters, continuations) needs GenerateDataKey and Decrypt, receiving
  # (the event source mapping) Decrypt, all through SQS.
  dynamic "statement" {
    for_each = local.direct_mode || local.mapping_mode ? [1] : []

    content {
      sid       = "UseKeyForQueues"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.kms_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["sqs.${local.region}.amazonaws.com"]
      }
    }
  }

  # Active tracing: Lambda sends the segments with this role. X-Ray has no resource-level permissions.
  dynamic "statement" {
    for_each = var.tracing_mode == "Active" ? [1] : []

    content {
      sid       = "Tracing"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

# The policy for whatever principal runs `tarius worker` on the event queue (queue trigger): a load's actions and
# the queue's consumption, with the visibility heartbeat of long loads. Not attached to anything here.
data "aws_iam_policy_document" "worker" {
  count = local.queue_mode ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.load[0].json]

  statement {
    sid       = "WorkerConsumeEvents"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]
    resources = [local.queue_arn]
  }

  statement {
    sid       = "WorkerUseKeyForQueue"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = local.create ? 1 : 0

  name   = "tarius-loader"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.this[0].json
}

resource "aws_cloudwatch_log_group" "this" {
  count = local.create ? 1 : 0

  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  count = local.create ? 1 : 0

  function_name                  = var.function_name
  description                    = var.description
  role                           = aws_iam_role.this[0].arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions == null ? -1 : var.reserved_concurrent_executions
  kms_key_arn                    = var.kms_key_arn
  tags                           = var.tags

  environment {
    variables = local.environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this[0].name
  }

  tracing_config {
    mode = var.tracing_mode
  }

  lifecycle {
    # Lambda refuses an environment above 4 KB; an inline feeds document is the part that grows.
    precondition {
      condition     = length(jsonencode(local.environment)) <= 4096
      error_message = "The function's environment is ${length(jsonencode(local.environment))} bytes (Lambda allows 4 KB): shorten function.environment, or keep the feeds document in S3 (TARIUS_FEEDS = s3://...)."
    }
  }

  depends_on = [aws_iam_role_policy.this, aws_cloudwatch_log_group.this]
}

# ---- direct trigger: S3 invokes the function asynchronously --------------------------------------------------------

resource "aws_lambda_permission" "s3" {
  count = local.create && var.trigger == "direct" ? 1 : 0

  statement_id   = "AllowLandingBucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this[0].function_name
  principal      = "s3.amazonaws.com"
  source_arn     = local.bucket_arn
  source_account = local.account_id
}

resource "aws_lambda_function_event_invoke_config" "this" {
  count = local.create && var.trigger == "direct" ? 1 : 0

  function_name                = aws_lambda_function.this[0].function_name
  maximum_retry_attempts       = var.async.maximum_retry_attempts
  maximum_event_age_in_seconds = var.async.maximum_event_age_in_seconds

  destination_config {
    on_failure {
      destination = local.dlq_arn
    }
  }
}

# ---- queue trigger: S3 -> SQS -> event source mapping --------------------------------------------------------------

resource "aws_sqs_queue" "events" {
  count = local.queue_mode ? 1 : 0

  name                              = local.queue_name
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  visibility_timeout_seconds        = local.visibility_timeout
  message_retention_seconds         = var.queue.message_retention_seconds
  tags                              = var.tags

  redrive_policy = jsonencode({
    deadLetterTargetArn = local.dlq_arn
    maxReceiveCount     = var.queue.max_receive_count
  })

  lifecycle {
    precondition {
      condition     = local.visibility_timeout >= local.min_visibility_timeout
      error_message = "queue.visibility_timeout_seconds must be at least 6 x the function timeout."
    }
  }
}

data "aws_iam_policy_document" "events" {
  count = local.queue_mode ? 1 : 0

  statement {
    sid       = "AllowLandingBucket"
    actions   = ["sqs:SendMessage"]
    resources = [local.queue_arn]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.bucket_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [local.queue_arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "events" {
  count = local.queue_mode ? 1 : 0

  queue_url = aws_sqs_queue.events[0].id
  policy    = data.aws_iam_policy_document.events[0].json
}

resource "aws_lambda_event_source_mapping" "this" {
  count = local.queue_mode && var.create_event_source_mapping ? 1 : 0

  function_name                      = aws_lambda_function.this[0].arn
  event_source_arn                   = aws_sqs_queue.events[0].arn
  batch_size                         = var.queue.batch_size
  maximum_batching_window_in_seconds = var.queue.maximum_batching_window_in_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  dynamic "scaling_config" {
    for_each = var.queue.maximum_concurrency == null ? [] : [var.queue.maximum_concurrency]

    content {
      maximum_concurrency = scaling_config.value
    }
  }

  depends_on = [aws_iam_role_policy.this]
}
