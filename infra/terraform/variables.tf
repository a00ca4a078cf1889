variable "project" {
  description = "Project name, first part of every resource name."
  type        = string
  default     = "tarius"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project must be 2-21 lower-case letters, digits or '-', starting with a letter."
  }
}

variable "env" {
  description = "Environment: devl, test, prod or local (the local stack)."
  type        = string

  validation {
    condition     = contains(["devl", "test", "prod", "local"], var.env)
    error_message = "env must be devl, test, prod or local."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like eu-west-1."
  }
}

variable "allowed_account_ids" {
  description = "Accounts this configuration may touch (guards against applying prod to the wrong account)."
  type        = list(string)
  default     = null
}

variable "deploy_role_name" {
  description = "IAM role that applies this configuration (docs/deploy.md); it administers the created KMS key through the key policy. null: none named."
  type        = string
  default     = null
}

variable "permissions_boundary_name" {
  description = "Customer managed policy set as permissions boundary of every role this configuration creates (the deploy role may only create roles carrying it). null: none."
  type        = string
  default     = null
}

variable "audit_logs" {
  description = "S3 server access logs of the landing bucket and a CloudTrail trail of its data events, in a log bucket of their own."
  type = object({
    access_logs    = optional(bool, false)
    data_events    = optional(bool, false)
    retention_days = optional(number, 365)
  })
  default = {}
}

variable "dlq_redrive_allow_policy" {
  description = "Give the dead-letter queues a redrive allow policy naming their only source queue; false only for a local stack that lacks the attribute (moto 5)."
  type        = bool
  default     = true
}

variable "local_endpoint" {
  description = "Endpoint of a local AWS stack (e.g. http://127.0.0.1:5000); when set every service uses it."
  type        = string
  default     = null

  validation {
    condition     = var.local_endpoint == null || can(regex("^https?://", var.local_endpoint))
    error_message = "local_endpoint must be an http(s) URL."
  }
}

variable "tags" {
  description = "Tags added to every resource (on top of Project, Environment and ManagedBy)."
  type        = map(string)
  default     = {}
}

variable "kms" {
  description = "Create a customer managed key (create = true) or use an existing one (key_arn)."
  type = object({
    create                  = optional(bool, true)
    key_arn                 = optional(string)
    deletion_window_in_days = optional(number, 30)
  })
  default = {}

  validation {
    condition     = var.kms.create || var.kms.key_arn != null
    error_message = "kms.key_arn is required when kms.create is false."
  }
}

variable "trigger" {
  description = "direct: S3 invokes the function; queue: S3 -> SQS -> event source mapping (the tarius worker may share the queue)."
  type        = string
  default     = "direct"

  validation {
    condition     = contains(["direct", "queue"], var.trigger)
    error_message = "trigger must be direct or queue."
  }
}

variable "function" {
  description = "Loader function settings."
  type = object({
    package_path                   = optional(string)
    architecture                   = optional(string, "arm64")
    memory_size                    = optional(number, 1769)
    timeout                        = optional(number, 900)
    reserved_concurrent_executions = optional(number)
    log_retention_days             = optional(number, 30)
    log_level                      = optional(string, "info")
    tracing_mode                   = optional(string, "PassThrough")
    max_wcu                        = optional(number)
    mapping                        = optional(string)
    create_event_source_mapping    = optional(bool, true)
  })
  default = {}

  validation {
    condition     = contains(["arm64", "x86_64"], var.function.architecture)
    error_message = "function.architecture must be arm64 or x86_64."
  }

  # A budget above a provisioned table's write capacity is throttled all along: leave max_wcu unset (it follows the
  # capacity) or keep it within.
  validation {
    condition     = var.function.max_wcu == null || var.table.billing_mode != "PROVISIONED" || try(var.function.max_wcu <= var.table.write_capacity, false)
    error_message = "function.max_wcu exceeds table.write_capacity of the PROVISIONED table: leave it unset (it follows the capacity) or lower it."
  }
}

variable "package_path" {
  description = "Path of the Lambda zip; overrides function.package_path (default build/package/tarius-lambda-<arch>.zip)."
  type        = string
  default     = null
}

variable "bucket" {
  description = "Landing bucket settings."
  type = object({
    force_destroy  = optional(bool, false)
    landing_prefix = optional(string, "raw-data/")
    rejects_prefix = optional(string, "invalid-records/")
    reports_prefix = optional(string, "load-reports/")
    suffixes       = optional(list(string), [".csv", ".csv.gz", ".csv.zst"])
    lifecycle_days = optional(object({
      rejects_expiration         = optional(number, 90)
      reports_expiration         = optional(number, 365)
      noncurrent_expiration      = optional(number, 30)
      abort_incomplete_multipart = optional(number, 7)
    }), {})
  })
  default = {}
}

variable "table" {
  description = "Target table settings (the one-feed shorthand, and a feed's table named data); with feeds, also the defaults of the tables the feeds create (billing, capacity, point-in-time recovery, deletion protection); deletion_protection null means on in prod only."
  type = object({
    billing_mode           = optional(string, "PAY_PER_REQUEST")
    read_capacity          = optional(number, 5)
    write_capacity         = optional(number, 25)
    hash_key               = optional(object({ name = string, type = optional(string, "S") }), { name = "pk", type = "S" })
    range_key              = optional(object({ name = string, type = optional(string, "S") }))
    point_in_time_recovery = optional(bool, true)
    deletion_protection    = optional(bool)
  })
  default = {}

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.table.billing_mode)
    error_message = "table.billing_mode must be PAY_PER_REQUEST or PROVISIONED."
  }
}

variable "feeds" {
  description = "Feeds of this deployment by name, rendered into the feeds document TARIUS_FEEDS (docs/deploy.md, Feeds): each loads the objects under its match.prefix (within bucket.landing_prefix) into its own table, with its mapping and sync mode (put, merge, insert, delete, newer or snapshot) and the mode's options (op, version, row_marker, snapshot; README.md, Feeds). Empty: the one feed of bucket.landing_prefix, table and function.mapping."
  type = map(object({
    match = object({
      prefix   = string
      suffixes = optional(list(string))
    })
    table = optional(object({
      create                 = optional(bool, true)
      name                   = optional(string)
      arn                    = optional(string)
      hash_key               = optional(object({ name = string, type = optional(string, "S") }))
      range_key              = optional(object({ name = string, type = optional(string, "S") }))
      billing_mode           = optional(string)
      read_capacity          = optional(number)
      write_capacity         = optional(number)
      point_in_time_recovery = optional(bool)
      deletion_protection    = optional(bool)
    }), {})
    mapping = optional(object({
      partition_key = optional(string)
      sort_key      = optional(string)
      defaults = optional(object({
        type  = optional(string)
        empty = optional(string)
        trim  = optional(bool)
      }))
      columns = optional(map(object({
        attribute = optional(string)
        skip      = optional(bool)
        type      = optional(string)
        empty     = optional(string)
        trim      = optional(bool)
        currency  = optional(bool)
        separator = optional(string)
      })))
    }))
    mode = optional(string, "put")
    op = optional(object({
      column = string
      delete = list(string)
      put    = optional(list(string))
    }))
    version = optional(object({
      column = string
      type   = optional(string)
    }))
    row_marker = optional(string)
    snapshot = optional(object({
      max_delete_fraction = optional(number)
      digests_prefix      = optional(string, "snapshots/")
    }))
    rejects_prefix = optional(string)
    reports_prefix = optional(string)
    max_wcu        = optional(number)
    concurrency    = optional(number)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for n in keys(var.feeds) : can(regex("^[A-Za-z0-9_.-]{1,64}$", n))])
    error_message = "feeds: a feed's name is 1-64 letters, digits, '_', '.' or '-' (it names the feed's table, metrics and messages): ${join(", ", [for n in keys(var.feeds) : "\"${n}\"" if !can(regex("^[A-Za-z0-9_.-]{1,64}$", n))])}."
  }

  # An object is loaded by at most one feed, and every feed's objects lie where the bucket's lifecycle rule for
  # landing files applies.
  validation {
    condition     = alltrue([for f in var.feeds : can(regex("^[^/].*/$", f.match.prefix)) && startswith(f.match.prefix, var.bucket.landing_prefix)])
    error_message = join("\n", [for n, f in var.feeds : "feeds.${n}.match.prefix: \"${f.match.prefix}\" must end with '/', must not start with '/', and must lie under bucket.landing_prefix (\"${var.bucket.landing_prefix}\")" if !(can(regex("^[^/].*/$", f.match.prefix)) && startswith(f.match.prefix, var.bucket.landing_prefix))])
  }

  # S3 refuses two event notifications of one bucket whose suffixes overlap under the same prefix.
  validation {
    condition = alltrue([for f in var.feeds : f.match.suffixes == null || try(length(f.match.suffixes) > 0 && alltrue([
      for i, s in f.match.suffixes : startswith(s, ".") && alltrue([for j, t in f.match.suffixes : i == j || !endswith(s, t)])
    ]), false)])
    error_message = join("\n", [for n, f in var.feeds : "feeds.${n}.match.suffixes: a non-empty list of suffixes starting with '.', none the end of another (${jsonencode(f.match.suffixes)})" if !(f.match.suffixes == null || try(length(f.match.suffixes) > 0 && alltrue([
      for i, s in f.match.suffixes : startswith(s, ".") && alltrue([for j, t in f.match.suffixes : i == j || !endswith(s, t)])
    ]), false))])
  }

  # The loader's words (src/loader/feeds.cpp): the feed later in the document names the earlier one.
  validation {
    condition     = length(flatten([for i, a in keys(var.feeds) : [for j, b in keys(var.feeds) : b if j > i && (startswith(var.feeds[a].match.prefix, var.feeds[b].match.prefix) || startswith(var.feeds[b].match.prefix, var.feeds[a].match.prefix)) && anytrue(flatten([for x in(var.feeds[a].match.suffixes != null ? var.feeds[a].match.suffixes : var.bucket.suffixes) : [for y in(var.feeds[b].match.suffixes != null ? var.feeds[b].match.suffixes : var.bucket.suffixes) : endswith(x, y) || endswith(y, x)]]))]])) == 0
    error_message = join("\n", flatten([for i, a in keys(var.feeds) : [for j, b in keys(var.feeds) : "feeds.${b}.match: overlaps feed ${a} (an object key could match both: give them prefixes that do not nest, or disjoint suffixes)" if j > i && (startswith(var.feeds[a].match.prefix, var.feeds[b].match.prefix) || startswith(var.feeds[b].match.prefix, var.feeds[a].match.prefix)) && anytrue(flatten([for x in(var.feeds[a].match.suffixes != null ? var.feeds[a].match.suffixes : var.bucket.suffixes) : [for y in(var.feeds[b].match.suffixes != null ? var.feeds[b].match.suffixes : var.bucket.suffixes) : endswith(x, y) || endswith(y, x)]]))]]))
  }

  # The loader's modes (src/loader/feeds.cpp); the function's policy grants each mode's calls on its table
  # (feeds.tf, mode_actions).
  validation {
    condition     = alltrue([for f in var.feeds : contains(["put", "merge", "insert", "delete", "newer", "snapshot"], f.mode)])
    error_message = join("\n", [for n, f in var.feeds : "feeds.${n}.mode: unknown mode \"${f.mode}\" (expected put, merge, insert, delete, newer or snapshot)" if !contains(["put", "merge", "insert", "delete", "newer", "snapshot"], f.mode)])
  }

  # Each mode's options: a newer feed names its version column; version, row_marker and snapshot belong to their
  # modes only (the loader's words).
  validation {
    condition = alltrue([for f in var.feeds : (f.mode == "newer") == (f.version != null) && (f.row_marker == null || contains(["insert", "newer"], f.mode)) && (f.snapshot == null || f.mode == "snapshot")])
    error_message = join("\n", flatten([for n, f in var.feeds : [
      f.mode == "newer" && f.version == null ? ["feeds.${n}.version: missing: a newer feed names its version column, e.g. {column: updated_at, type: timestamp}"] : [],
      f.mode != "newer" && f.version != null ? ["feeds.${n}.version: only newer feeds take a version column (mode is ${f.mode})"] : [],
      f.row_marker != null && !contains(["insert", "newer"], f.mode) ? ["feeds.${n}.row_marker: only insert and newer feeds mark their rows (mode is ${f.mode})"] : [],
      f.snapshot != null && f.mode != "snapshot" ? ["feeds.${n}.snapshot: only snapshot feeds take snapshot options (mode is ${f.mode})"] : [],
    ]]))
  }

  validation {
    condition = alltrue([for f in var.feeds : alltrue([
      f.version == null || try(f.version.column != "" && (f.version.type == null || contains(["number", "timestamp"], f.version.type)), false),
      f.row_marker == null || try(f.row_marker != "", false),
      try(f.snapshot.max_delete_fraction, null) == null || try(f.snapshot.max_delete_fraction > 0 && f.snapshot.max_delete_fraction <= 1, false),
    ])])
    error_message = join("\n", flatten([for n, f in var.feeds : concat(
      f.version == null ? [] : concat(
        f.version.column == "" ? ["feeds.${n}.version.column: missing: name the version column"] : [],
        f.version.type == null || try(contains(["number", "timestamp"], f.version.type), false) ? [] : ["feeds.${n}.version.type: unknown version type \"${f.version.type}\" (expected number or timestamp)"],
      ),
      f.row_marker == "" ? ["feeds.${n}.row_marker: expected an attribute name, or false"] : [],
      try(f.snapshot.max_delete_fraction, null) == null ? [] : f.snapshot.max_delete_fraction <= 0 ? ["feeds.${n}.snapshot.max_delete_fraction: expected a number above 0, not \"${f.snapshot.max_delete_fraction}\""] : f.snapshot.max_delete_fraction > 1 ? ["feeds.${n}.snapshot.max_delete_fraction: a share of the items: at most 1 (not ${f.snapshot.max_delete_fraction})"] : [],
    )]))
  }

  # The version is stored as the version's type: a mapping rule skipping its column or giving it another type
  # contradicts it (the loader's words).
  validation {
    condition = alltrue(flatten([for f in var.feeds : [for c, r in try(f.mapping.columns, null) == null ? {} : f.mapping.columns : !(f.mode == "newer" && try(f.version.column == c && (r.skip == true || (r.type != null && r.type != coalesce(f.version.type, "number"))), false))]]))
    error_message = join("\n", flatten([for n, f in var.feeds : [for c, r in try(f.mapping.columns, null) == null ? {} : f.mapping.columns : (
      r.skip == true ? "feeds.${n}.mapping.columns.${c}: the version column ${c} is skipped: a newer feed stores its version" :
      "feeds.${n}.mapping.columns.${c}.type: column ${c} has type ${r.type}, but it is the feed's version of type ${coalesce(f.version.type, "number")}"
    ) if f.mode == "newer" && try(f.version.column == c && (r.skip == true || (r.type != null && r.type != coalesce(f.version.type, "number"))), false)]]))
  }

  # Empty cells: omit, keep or null; remove (REMOVE the attribute) only where a row updates its item (the loader's
  # words).
  validation {
    condition = alltrue(flatten([for f in var.feeds : [for e in concat([try(f.mapping.defaults.empty, null)], [for r in try(values(f.mapping.columns), []) : r.empty]) : e == null ? true : contains(f.mode == "merge" ? ["omit", "keep", "null", "remove"] : ["omit", "keep", "null"], e)]]))
    error_message = join("\n", flatten([for n, f in var.feeds : [for field, e in merge({ "defaults.empty" = try(f.mapping.defaults.empty, null) }, { for c, r in try(f.mapping.columns, null) == null ? {} : f.mapping.columns : "columns.${c}.empty" => r.empty }) : (
      e == "remove" ? "feeds.${n}.mapping.${field}: remove is for merge feeds only (a put replaces the whole item; mode is ${f.mode})" :
      "feeds.${n}.mapping.${field}: unknown empty policy \"${e}\" (expected omit, keep, null or remove)"
    ) if e == null ? false : !contains(f.mode == "merge" ? ["omit", "keep", "null", "remove"] : ["omit", "keep", "null"], e)]]))
  }

  # A snapshot deletes the items of its table that its file lacks: another feed's items would go too. Tables are
  # compared by the name the feed loads (feeds.tf, feed_tables); the later feed names the earlier one.
  validation {
    condition = alltrue([for ts in [[for n, f in var.feeds : { name = n, mode = f.mode, table = f.table.create ? "${var.project}-${coalesce(f.table.name, n)}-${var.env}-${var.region}" : f.table.arn != null ? try(regex(":table/(.+)$", f.table.arn)[0], f.table.arn) : f.table.name }]] : alltrue(flatten([
      for i, a in ts : [for j, b in ts : !(j > i && a.table != null && a.table == b.table && (a.mode == "snapshot" || b.mode == "snapshot"))]
    ]))])
    error_message = join("\n", flatten([for ts in [[for n, f in var.feeds : { name = n, mode = f.mode, table = f.table.create ? "${var.project}-${coalesce(f.table.name, n)}-${var.env}-${var.region}" : f.table.arn != null ? try(regex(":table/(.+)$", f.table.arn)[0], f.table.arn) : f.table.name }]] : [
      for i, a in ts : [for j, b in ts : "feeds.${b.name}.table: feed ${a.name} writes table ${a.table} too: a snapshot feed must own its table (it deletes what its file lacks)" if j > i && a.table != null && a.table == b.table && (a.mode == "snapshot" || b.mode == "snapshot")]
    ]]))
  }

  # A snapshot feed keeps its state and digests under <digests_prefix><feed>/ of the landing bucket: never where a
  # feed loads from (the loader skips every object under it, and refuses a prefix whose objects a feed would load:
  # "it would load its own outputs"), never where the rejects' or reports' expiry rules would delete the digest the
  # next snapshot compares with, and never among another snapshot feed's (each feed's grant covers its own only).
  # Without a snapshot block the prefix is the loader's default, snapshots/ (the type's default).
  validation {
    condition = alltrue([for n, f in var.feeds : f.mode != "snapshot" || alltrue(concat(
      [can(regex("^[^/].*/$", try(f.snapshot.digests_prefix, "snapshots/")))],
      [for p in [var.bucket.rejects_prefix, var.bucket.reports_prefix] : !startswith(try(f.snapshot.digests_prefix, "snapshots/"), p)],
      [for g in var.feeds : !startswith(try(f.snapshot.digests_prefix, "snapshots/"), g.match.prefix) && !startswith(g.match.prefix, try(f.snapshot.digests_prefix, "snapshots/"))],
      [for m, g in var.feeds : m == n || g.mode != "snapshot" || !startswith("${try(f.snapshot.digests_prefix, "snapshots/")}${n}/", "${try(g.snapshot.digests_prefix, "snapshots/")}${m}/")],
    ))])
    error_message = join("\n", flatten([for n, f in var.feeds : f.mode != "snapshot" ? [] : [for d in [try(f.snapshot.digests_prefix, "snapshots/")] : concat(
      can(regex("^[^/].*/$", d)) ? [] : ["feeds.${n}.snapshot.digests_prefix: \"${d}\" must end with '/' and must not start with '/'"],
      [for field, p in { rejects_prefix = var.bucket.rejects_prefix, reports_prefix = var.bucket.reports_prefix } : "feeds.${n}.snapshot.digests_prefix: \"${d}\" lies under bucket.${field} (\"${p}\"), whose expiry rule would delete the digest the next snapshot compares with" if startswith(d, p)],
      # The first feed that reads there, as the loader names it.
      [for readers in [[for m, g in var.feeds : "feeds.${n}.snapshot.digests_prefix: \"${d}\" lies where feed ${m} reads (match prefix \"${g.match.prefix}\"): it would load its own outputs; give them a prefix of their own" if startswith(d, g.match.prefix) || startswith(g.match.prefix, d)]] : slice(readers, 0, min(1, length(readers)))],
      [for m, g in var.feeds : "feeds.${n}.snapshot.digests_prefix: its digests (${d}${n}/) lie among feed ${m}'s (${try(g.snapshot.digests_prefix, "snapshots/")}${m}/): give each snapshot feed a place of its own" if m != n && g.mode == "snapshot" && startswith("${d}${n}/", "${try(g.snapshot.digests_prefix, "snapshots/")}${m}/")],
    )]]))
  }

  # A delete feed names its operation column; no other mode takes one (the loader's words).
  validation {
    condition = alltrue([for f in var.feeds : (f.mode == "delete") == (f.op != null)])
    error_message = join("\n", flatten([for n, f in var.feeds : [
      f.mode == "delete" && f.op == null ? ["feeds.${n}.op: missing: a delete feed names its operation column, e.g. {column: op, delete: [D]}"] : [],
      f.mode != "delete" && f.op != null ? ["feeds.${n}.op: only delete feeds take an operation column (mode is ${f.mode})"] : [],
    ]]))
  }

  validation {
    condition = alltrue([for f in var.feeds : f.op == null || try(f.op.column != "" && length(f.op.delete) > 0 && length(setintersection(f.op.delete, coalesce(f.op.put, []))) == 0, false)])
    error_message = join("\n", flatten([for n, f in var.feeds : f.op == null ? [] : concat(
      f.op.column == "" ? ["feeds.${n}.op.column: missing: name the operation column"] : [],
      length(f.op.delete) == 0 ? ["feeds.${n}.op.delete: missing: the values that make a row a delete, e.g. [D]"] : [],
      [for v in coalesce(f.op.put, []) : "feeds.${n}.op.put: \"${v}\" is also a delete value" if contains(f.op.delete, v)],
    )]))
  }

  validation {
    condition = alltrue([for f in var.feeds : (f.max_wcu == null || try(f.max_wcu > 0, false)) && (f.concurrency == null || try(f.concurrency >= 1 && floor(f.concurrency) == f.concurrency, false))])
    error_message = join("\n", flatten([for n, f in var.feeds : concat(
      f.max_wcu == null || try(f.max_wcu > 0, false) ? [] : ["feeds.${n}.max_wcu: expected a number above 0, not \"${f.max_wcu}\""],
      f.concurrency == null || try(f.concurrency >= 1 && floor(f.concurrency) == f.concurrency, false) ? [] : ["feeds.${n}.concurrency: expected a count (a whole number above 0), not \"${f.concurrency}\""],
    )]))
  }

  # A feed's budget above the write capacity of the PROVISIONED table it creates is throttled all along.
  # The loader's rejects and reports never land where a feed loads from (they would be loaded in
  # turn), and rejects and reports stay where the bucket's expiry rules apply.
  validation {
    condition = alltrue([for f in var.feeds : alltrue([
      f.rejects_prefix == null || try(can(regex("^[^/].*/$", f.rejects_prefix)) && startswith(f.rejects_prefix, var.bucket.rejects_prefix), false),
      f.reports_prefix == null || try(can(regex("^[^/].*/$", f.reports_prefix)) && startswith(f.reports_prefix, var.bucket.reports_prefix), false),
    ])])
    error_message = join("\n", flatten([for n, f in var.feeds : concat(
      f.rejects_prefix == null || try(can(regex("^[^/].*/$", f.rejects_prefix)) && startswith(f.rejects_prefix, var.bucket.rejects_prefix), false) ? [] : ["feeds.${n}.rejects_prefix: \"${f.rejects_prefix}\" must end with '/' and lie under bucket.rejects_prefix (\"${var.bucket.rejects_prefix}\"), whose expiry rule applies to rejected rows"],
      f.reports_prefix == null || try(can(regex("^[^/].*/$", f.reports_prefix)) && startswith(f.reports_prefix, var.bucket.reports_prefix), false) ? [] : ["feeds.${n}.reports_prefix: \"${f.reports_prefix}\" must end with '/' and lie under bucket.reports_prefix (\"${var.bucket.reports_prefix}\"), whose expiry rule applies to load reports"],
    )]))
  }

  # Tables: created here (named <project>-<name>-<env>-<region>), or existing in this account and region.
  validation {
    condition = alltrue([for f in var.feeds : f.table.create ? f.table.arn == null && (f.table.name == null || can(regex("^[A-Za-z0-9_.-]{1,64}$", f.table.name))) && try(f.table.name != "ledger", true) : (f.table.name == null) != (f.table.arn == null) && alltrue([
      f.table.hash_key == null, f.table.range_key == null, f.table.billing_mode == null, f.table.read_capacity == null,
      f.table.write_capacity == null, f.table.point_in_time_recovery == null, f.table.deletion_protection == null,
    ])])
    error_message = join("\n", flatten([for n, f in var.feeds : f.table.create ? concat(
      f.table.arn != null ? ["feeds.${n}.table.arn: only an existing table (create = false) is named by ARN; the table this feed creates is ${var.project}-${coalesce(f.table.name, n)}-${var.env}-${var.region}"] : [],
      f.table.name != null && !can(regex("^[A-Za-z0-9_.-]{1,64}$", coalesce(f.table.name, "-"))) ? ["feeds.${n}.table.name: \"${f.table.name}\": a created table's name is 1-64 letters, digits, '_', '.' or '-' (it becomes ${var.project}-<name>-${var.env}-${var.region})"] : [],
      try(f.table.name == "ledger", false) ? ["feeds.${n}.table.name: \"ledger\" is the stack's load ledger"] : [],
      ) : concat(
      f.table.name == null && f.table.arn == null ? ["feeds.${n}.table: missing: an existing table (create = false) is named by name or arn"] : [],
      f.table.name != null && f.table.arn != null ? ["feeds.${n}.table: an existing table is named by name or by arn, not both"] : [],
      anytrue([f.table.hash_key != null, f.table.range_key != null, f.table.billing_mode != null, f.table.read_capacity != null, f.table.write_capacity != null, f.table.point_in_time_recovery != null, f.table.deletion_protection != null]) ? ["feeds.${n}.table: an existing table (create = false) takes no key schema or settings: they are the table's own"] : [],
    )]))
  }

  validation {
    condition     = alltrue([for f in var.feeds : f.table.arn == null || can(regex("^arn:aws[a-z-]*:dynamodb:${var.region}:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", f.table.arn))])
    error_message = join("\n", [for n, f in var.feeds : "feeds.${n}.table.arn: \"${f.table.arn}\" is not the ARN of a DynamoDB table in this stack's region (arn:aws:dynamodb:${var.region}:<account>:table/<name>)" if !(f.table.arn == null || can(regex("^arn:aws[a-z-]*:dynamodb:${var.region}:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", f.table.arn)))])
  }

  validation {
    condition     = alltrue([for f in var.feeds : f.table.arn == null || try(split(":", f.table.arn)[4] == data.aws_caller_identity.current.account_id, false)])
    error_message = join("\n", [for n, f in var.feeds : "feeds.${n}.table.arn: the table is in account ${try(split(":", f.table.arn)[4], "?")}, not this stack's (${data.aws_caller_identity.current.account_id}): a feed loads a table of its own account" if !(f.table.arn == null || try(split(":", f.table.arn)[4] == data.aws_caller_identity.current.account_id, false))])
  }

  # One feed creates a table; the others load it as an existing one (create = false, by its created name).
  validation {
    condition     = alltrue([for short, ns in { for n, f in var.feeds : coalesce(f.table.name, n) => n... if f.table.create } : length(ns) == 1])
    error_message = join("\n", [for short, ns in { for n, f in var.feeds : coalesce(f.table.name, n) => n... if f.table.create } : "feeds.${ns[1]}.table: feed ${ns[0]} creates table ${var.project}-${short}-${var.env}-${var.region} too: one feed creates a table, the others load it with create = false and its name" if length(ns) > 1])
  }

  # The table named data is the stack's target table: its key schema and settings are var.table's.
  validation {
    condition     = alltrue(flatten([for f in var.feeds : [for k in compact([try(f.table.hash_key.type, null), try(f.table.range_key.type, null)]) : contains(["S", "N", "B"], k)]]))
    error_message = join("\n", flatten([for n, f in var.feeds : [for role, k in { hash_key = f.table.hash_key, range_key = f.table.range_key } : "feeds.${n}.table.${role}.type: unknown key type \"${k.type}\" (expected S, N or B)" if k != null && !contains(["S", "N", "B"], try(k.type, "?"))]]))
  }

  # The mapping's keys: a known type, and the keys of the table the feed creates.
  validation {
    condition     = alltrue(flatten([for f in var.feeds : [for c, r in try(f.mapping.columns, null) == null ? {} : f.mapping.columns : r.type == null || try(contains(["string", "number", "bool", "null", "json", "string_set", "number_set", "list", "auto", "timestamp"], r.type), false)]]))
    error_message = join("\n", flatten([for n, f in var.feeds : [for c, r in try(f.mapping.columns, null) == null ? {} : f.mapping.columns : "feeds.${n}.mapping.columns.${c}.type: unknown type \"${r.type}\" (expected string, number, bool, null, json, string_set, number_set, list, auto or timestamp)" if !(r.type == null || try(contains(["string", "number", "bool", "null", "json", "string_set", "number_set", "list", "auto", "timestamp"], r.type), false))]]))
  }

  validation {
    condition     = length(var.feeds) == 0 || var.function.mapping == null
    error_message = "function.mapping is the one-feed shorthand's mapping: with feeds, give each feed its mapping."
  }
}

variable "notifications" {
  description = "Subscribers of the load-summary and alarm topic."
  type = object({
    email_addresses = optional(list(string), [])
    https_endpoints = optional(list(string), [])
    sqs_subscriptions = optional(list(object({
      queue_arn            = string
      raw_message_delivery = optional(bool, true)
      filter_policy        = optional(string)
    })), [])
  })
  default = {}
}

variable "alarms" {
  description = "Alarm settings."
  type = object({
    create                     = optional(bool, true)
    create_dashboard           = optional(bool, true)
    duration_threshold_percent = optional(number)
    rows_rejected_threshold    = optional(number, 0)
    period                     = optional(number, 300)
  })
  default = {}
}
