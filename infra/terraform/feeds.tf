# Feeds (issue 11): several feeds in one deployment, each with its objects (a prefix of the landing bucket and
# suffixes), its table, mapping and sync mode. var.feeds renders the feeds document the loader reads from
# TARIUS_FEEDS (include/tarius/loader/feeds.hpp), creates or references each feed's table, and gives the function
# (and the worker policy) exactly those tables and prefixes. Without feeds, the single-feed variables (bucket,
# table, function.mapping) describe the one feed, as before.

locals {
  feeds_given = length(var.feeds) > 0

  # The calls each mode's writer makes on its table: put and snapshot rows are PutRequests, delete rows (and a
  # snapshot's absent items) DeleteRequests of BatchWriteItem; insert and newer rows conditional PutItems
  # (attribute_not_exists / the stored version); merge rows UpdateItems (SET and REMOVE). Nothing more: a merge feed
  # cannot replace items, an insert feed cannot update them. (DescribeTable comes on top for feeds whose mapping
  # names no keys: feed_table_actions.) Every mode's calls are proved against recorded calls by
  # tests/python/test_iam_actions.py; a mode added to the loader adds its calls here.
  mode_actions = {
    put      = ["dynamodb:BatchWriteItem"]
    delete   = ["dynamodb:BatchWriteItem"]
    snapshot = ["dynamodb:BatchWriteItem"]
    insert   = ["dynamodb:PutItem"]
    newer    = ["dynamodb:PutItem"]
    merge    = ["dynamodb:UpdateItem"]
  }

  # Where each snapshot feed keeps its state (state.json) and digests (<load id>.digest) in the landing bucket:
  # <digests_prefix><feed>/ (the loader's layout, src/loader/load_job.cpp), its prefix the loader's default unless
  # the feed names one. The document always names it, so the grants cannot drift from a changed default.
  feed_digests_prefix = { for n, f in var.feeds : n => try(f.snapshot.digests_prefix, "snapshots/") if f.mode == "snapshot" }
  feed_digests_area   = { for n, p in local.feed_digests_prefix : n => "${p}${n}/" }

  feed_suffixes = { for n, f in var.feeds : n => f.match.suffixes != null ? f.match.suffixes : var.bucket.suffixes }

  # The mapping's keys as the loader reads them: NAME or NAME:TYPE (S when no type is given).
  feed_mapping_keys = { for n, f in var.feeds : n => {
    for role, text in { hash = try(f.mapping.partition_key, null), range = try(f.mapping.sort_key, null) } : role => text == null ? null : {
      name                   = length(regexall(":", text)) > 0 ? regex("^(.*):[^:]*$", text)[0] : text
      type                   = length(regexall(":", text)) > 0 ? regex(":([^:]*)$", text)[0] : "S"
    }
  } }

  # Each feed's table. Created tables are named like the stack's other resources, <project>-<name>-<env>-<region>
  # (name: table.name, default the feed's name); the one named "data" is the stack's target table (module.table,
  # settings from var.table), so a single-feed deployment moves to feeds without recreating its table. Existing
  # tables are named by name or ARN, in this account and region.
  feed_tables = { for n, f in var.feeds : n => {
    create = f.table.create
    short  = f.table.create ? coalesce(f.table.name, n) : null
    data   = f.table.create && coalesce(f.table.name, n) == "data"
    name = (f.table.create ? "${var.project}-${coalesce(f.table.name, n)}-${var.env}-${var.region}" :
    f.table.arn != null ? try(regex(":table/(.+)$", f.table.arn)[0], f.table.arn) : f.table.name)
    hash_key = (f.table.hash_key != null ? f.table.hash_key :
      local.feed_mapping_keys[n].hash != null ? local.feed_mapping_keys[n].hash :
    { name = "pk", type = "S" })
    range_key              = f.table.range_key != null ? f.table.range_key : local.feed_mapping_keys[n].range
    billing_mode           = coalesce(f.table.billing_mode, var.table.billing_mode)
    read_capacity          = coalesce(f.table.read_capacity, var.table.read_capacity)
    write_capacity         = coalesce(f.table.write_capacity, var.table.write_capacity)
    point_in_time_recovery = f.table.point_in_time_recovery != null ? f.table.point_in_time_recovery : var.table.point_in_time_recovery
    deletion_protection    = f.table.deletion_protection != null ? f.table.deletion_protection : local.deletion_protection
  } }

  # The key schema of each table the feeds create (the data table's is var.table's); null for existing tables.
  feed_table_keys = { for n, t in local.feed_tables : n => !t.create ? null : {
    hash  = t.data ? var.table.hash_key : t.hash_key
    range = t.data ? var.table.range_key : t.range_key
  } }

  # Tables this configuration creates for feeds, by short name (the "data" table is module.table).
  # (Grouped: two feeds creating one table are refused by the variable's validation, not by a duplicate key here.)
  feed_created_tables = { for short, ts in {
    for n, t in local.feed_tables : t.short => t... if t.create && !t.data
  } : short => ts[0] }

  # A feed whose created table is PROVISIONED takes no more than its write capacity unless it says otherwise.
  feed_table_capacity = { for n, t in local.feed_tables : n => (
    !t.create ? null :
    t.data ? (var.table.billing_mode == "PROVISIONED" ? var.table.write_capacity : null) :
    t.billing_mode == "PROVISIONED" ? t.write_capacity : null
  ) }
  feed_max_wcu = { for n, f in var.feeds : n => f.max_wcu != null ? f.max_wcu : local.feed_table_capacity[n] }

  # The feeds document (TARIUS_FEEDS): JSON, keys in lexical order, unset options left out (the loader refuses a
  # null where it expects a value). Every feed matches objects of the landing bucket only.
  feeds_document = !local.feeds_given ? null : jsonencode({ feeds = { for n, f in var.feeds : n => { for k, v in {
    match = { bucket = local.bucket_name, prefix = f.match.prefix, suffixes = local.feed_suffixes[n] }
    table = local.feed_tables[n].name
    mapping = f.mapping == null ? null : { for mk, mv in {
      partition_key = f.mapping.partition_key
      sort_key      = f.mapping.sort_key
      defaults      = f.mapping.defaults == null ? null : { for dk, dv in f.mapping.defaults : dk => dv if dv != null }
      columns = f.mapping.columns == null ? null : {
        for column, rule in f.mapping.columns : column => { for rk, rv in rule : rk => rv if rv != null }
      }
    } : mk => mv if mv != null }
    mode    = f.mode
    op      = f.op == null ? null : { for ok, ov in f.op : ok => ov if ov != null }
    version = f.version == null ? null : { for vk, vv in f.version : vk => vv if vv != null }
    # row_marker: an attribute name, or false (no marker; true keeps the loader's default attribute).
    row_marker = f.row_marker == null ? null : try(tobool(f.row_marker), f.row_marker)
    snapshot = f.mode != "snapshot" ? null : merge(
      { digests_prefix = local.feed_digests_prefix[n] },
      try(f.snapshot.max_delete_fraction, null) == null ? {} : { max_delete_fraction = f.snapshot.max_delete_fraction },
    )
    rejects_prefix = f.rejects_prefix
    reports_prefix = f.reports_prefix
    max_wcu        = local.feed_max_wcu[n]
    concurrency    = f.concurrency
  } : k => v if v != null } } })

  # What the feeds need of the bucket: prefixes nested in another of the same list are covered by it.
  feed_rejects_prefixes = distinct([for f in var.feeds : coalesce(f.rejects_prefix, var.bucket.rejects_prefix)])
  feed_reports_prefixes = distinct([for f in var.feeds : coalesce(f.reports_prefix, var.bucket.reports_prefix)])

  # Lambda allows 4 KB for all environment variables together; the other variables take well under 1 KB (names,
  # ARNs, prefixes), so a document above this size is kept as an object of the landing bucket instead (outside
  # the landing prefix, encrypted with the stack's key) and TARIUS_FEEDS names it. The key carries the document's
  # hash: a changed document is a new object and a new environment, so every execution environment reads it anew.
  feeds_inline_max_bytes = 2048
  feeds_in_s3            = local.feeds_given && length(coalesce(local.feeds_document, "-")) > local.feeds_inline_max_bytes
  feeds_object_key       = local.feeds_in_s3 ? "tarius-config/feeds-${substr(sha256(local.feeds_document), 0, 16)}.json" : null

  # Table name -> the actions of every feed writing it: its mode's calls, and DescribeTable when the feed's mapping
  # names no partition_key (the loader then reads the key schema from the table at start; a mapping's keys are used
  # as they are and the table is never described: src/loader/load_job.cpp, key_schema).
  feed_table_actions = { for name, actions in {
    for n, f in var.feeds : local.feed_tables[n].name => concat(lookup(local.mode_actions, f.mode, []),
    try(f.mapping.partition_key, null) == null ? ["dynamodb:DescribeTable"] : [])...
  } : name => sort(distinct(flatten(actions))) }

  feeds_for_function = !local.feeds_given ? null : {
    document         = local.feeds_in_s3 ? "s3://${local.bucket_name}/${local.feeds_object_key}" : local.feeds_document
    landing_prefixes = sort(distinct([for f in var.feeds : f.match.prefix]))
    rejects_prefixes = sort([for p in local.feed_rejects_prefixes : p if length([for q in local.feed_rejects_prefixes : q if q != p && startswith(p, q)]) == 0])
    reports_prefixes = sort([for p in local.feed_reports_prefixes : p if length([for q in local.feed_reports_prefixes : q if q != p && startswith(p, q)]) == 0])
    table_actions    = local.feed_table_actions
    snapshot_areas   = sort(values(local.feed_digests_area))
    document_object  = local.feeds_in_s3 ? "${local.bucket_name}/${local.feeds_object_key}" : null
  }

  # Every (prefix, suffix) of every feed raises an event; feeds never overlap (validated), so neither do these.
  notification_filters = !local.feeds_given ? null : flatten([
    for n in sort(keys(var.feeds)) : [for s in local.feed_suffixes[n] : { prefix = var.feeds[n].match.prefix, suffix = s }]
  ])

  # The tables the alarms watch: the target table, or every feed's; the load alarms watch each feed (EMF dimension
  # set feed, status).
  alarm_table_names = !local.feeds_given ? null : sort(distinct([for t in local.feed_tables : t.name]))
  alarm_feed_names  = !local.feeds_given ? null : sort(keys(var.feeds))
}

# A feeds document too large for the function's environment (feeds_inline_max_bytes): TARIUS_FEEDS names this
# object, which the function (and the worker) may read, and nothing else of the bucket beyond its prefixes.
resource "aws_s3_object" "feeds_document" {
  count = local.feeds_in_s3 ? 1 : 0

  bucket                 = module.bucket.bucket_id
  key                    = local.feeds_object_key
  content                = local.feeds_document
  content_type           = "application/json"
  server_side_encryption = "aws:kms"
  kms_key_id             = module.kms.key_arn
  bucket_key_enabled     = true
  # The deploy role reads no object of the landing bucket but this one: its deny of data reads
  # (infra/iam/deploy-role-policy.json, DenyDataRead) excepts objects tagged so, and it may write only under
  # tarius-config/ (FeedsDocument).
  tags = { "tarius-config" = "feeds" }

  lifecycle {
    precondition {
      condition     = !startswith(local.feeds_object_key, var.bucket.landing_prefix)
      error_message = "The feeds document's object ${local.feeds_object_key} lies under bucket.landing_prefix (\"${var.bucket.landing_prefix}\"): it would be loaded; give the landing files a prefix of their own."
    }
  }
}

module "feed_table" {
  source   = "./modules/table"
  for_each = local.feed_created_tables

  name                   = each.value.name
  kms_key_arn            = module.kms.key_arn
  billing_mode           = each.value.billing_mode
  read_capacity          = each.value.read_capacity
  write_capacity         = each.value.write_capacity
  hash_key               = each.value.hash_key
  range_key              = each.value.range_key
  point_in_time_recovery = each.value.point_in_time_recovery
  deletion_protection    = each.value.deletion_protection
}

# The permissions boundary of docs/deploy.md (infra/iam/workload-boundary.json) reaches tables named tarius-* only:
# a feed loading another table needs a boundary that names it.
check "feed_tables_inside_the_boundary" {
  assert {
    condition = var.permissions_boundary_name != "tarius-workload-boundary" || alltrue([
      for t in values(local.feed_tables) : startswith(t.name, "tarius-")
    ])
    error_message = "A feed's table is not named tarius-*: the permissions boundary tarius-workload-boundary (docs/deploy.md) does not let the function write it. Extend the boundary's Tables statement: ${join(", ", [for n, t in local.feed_tables : "feeds.${n}: ${t.name}" if !startswith(t.name, "tarius-")])}."
  }
}
