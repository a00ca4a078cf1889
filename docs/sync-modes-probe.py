#!/usr/bin/env python3
"""Probe what dynalite supports of the calls the sync modes need (docs/sync-modes.md, section 7)."""
import json, sys, os
sys.path.insert(0, os.path.join(os.environ["TARIUS_SOURCE_DIR"], "tests", "python"))
import tarius_stack
from botocore.exceptions import ClientError, ParamValidationError

def run(name, fn):
    try:
        r = fn()
        r.pop("ResponseMetadata", None)
        print("OK  ", name, json.dumps(r, default=str)[:300])
    except ParamValidationError as e:
        print("CLI ", name, "botocore refuses client-side:", str(e).splitlines()[-1][:160])
        return
    except ClientError as e:
        err = e.response.get("Error", {})
        extra = {k: v for k, v in e.response.items() if k not in ("Error", "ResponseMetadata")}
        print("ERR ", name, err.get("Code"), "|", err.get("Message", "")[:160], "|", json.dumps(extra, default=str)[:200])

with tarius_stack.start_dynalite() as d:
    c = tarius_stack.dynamodb_client(d.url)
    c.create_table(TableName="tbl", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    K = {"pk": {"S": "a"}}
    run("put plain", lambda: c.put_item(TableName="tbl", Item={"pk": {"S": "a"}, "v": {"N": "5"}, "x": {"S": "keep"}},
                                        ReturnConsumedCapacity="TOTAL"))
    run("insert: put attribute_not_exists(pk) on existing",
        lambda: c.put_item(TableName="tbl", Item={"pk": {"S": "a"}, "v": {"N": "1"}},
                           ConditionExpression="attribute_not_exists(pk)", ReturnConsumedCapacity="TOTAL"))
    run("insert: ... with ReturnValuesOnConditionCheckFailure=ALL_OLD",
        lambda: c.put_item(TableName="tbl", Item={"pk": {"S": "a"}, "v": {"N": "1"}},
                           ConditionExpression="attribute_not_exists(pk)",
                           ReturnValuesOnConditionCheckFailure="ALL_OLD"))
    run("insert: put attribute_not_exists(pk) on absent",
        lambda: c.put_item(TableName="tbl", Item={"pk": {"S": "b"}, "v": {"N": "1"}, "tl": {"S": "L1"}},
                           ConditionExpression="attribute_not_exists(pk)", ReturnConsumedCapacity="TOTAL"))
    run("insert resend same load: attribute_not_exists(pk) OR tl = :l",
        lambda: c.put_item(TableName="tbl", Item={"pk": {"S": "b"}, "v": {"N": "1"}, "tl": {"S": "L1"}},
                           ConditionExpression="attribute_not_exists(pk) OR #tl = :l",
                           ExpressionAttributeNames={"#tl": "tl"}, ExpressionAttributeValues={":l": {"S": "L1"}}))
    run("insert other load: attribute_not_exists(pk) OR tl = :l (expect CCF)",
        lambda: c.put_item(TableName="tbl", Item={"pk": {"S": "b"}, "v": {"N": "1"}, "tl": {"S": "L2"}},
                           ConditionExpression="attribute_not_exists(pk) OR #tl = :l",
                           ExpressionAttributeNames={"#tl": "tl"}, ExpressionAttributeValues={":l": {"S": "L2"}}))
    run("newer N: put v=7 if not exists or v < 7",
        lambda: c.put_item(TableName="tbl", Item={"pk": {"S": "a"}, "v": {"N": "7"}},
                           ConditionExpression="attribute_not_exists(#v) OR #v < :v",
                           ExpressionAttributeNames={"#v": "v"}, ExpressionAttributeValues={":v": {"N": "7"}}))
    run("newer N: equal version 7 (expect CCF)",
        lambda: c.put_item(TableName="tbl", Item={"pk": {"S": "a"}, "v": {"N": "7"}},
                           ConditionExpression="attribute_not_exists(#v) OR #v < :v",
                           ExpressionAttributeNames={"#v": "v"}, ExpressionAttributeValues={":v": {"N": "7"}}))
    run("newer N: 38-digit precision 10000000000000000000000000000000000001 > ...0",
        lambda: (c.put_item(TableName="tbl", Item={"pk": {"S": "p"}, "v": {"N": "10000000000000000000000000000000000000"}}),
                 c.put_item(TableName="tbl", Item={"pk": {"S": "p"}, "v": {"N": "10000000000000000000000000000000000001"}},
                            ConditionExpression="#v < :v", ExpressionAttributeNames={"#v": "v"},
                            ExpressionAttributeValues={":v": {"N": "10000000000000000000000000000000000001"}}))[1])
    run("newer: stored N vs :v S (type mismatch, expect CCF)",
        lambda: c.put_item(TableName="tbl", Item={"pk": {"S": "a"}, "v": {"N": "8"}},
                           ConditionExpression="attribute_not_exists(#v) OR #v < :v",
                           ExpressionAttributeNames={"#v": "v"}, ExpressionAttributeValues={":v": {"S": "9"}}))
    run("newer S: canonical timestamps compare as strings",
        lambda: (c.put_item(TableName="tbl", Item={"pk": {"S": "s"}, "ts": {"S": "2026-12-06T07:00:00.000000Z"}}),
                 c.put_item(TableName="tbl", Item={"pk": {"S": "s"}, "ts": {"S": "2026-12-06T08:00:00.000000Z"}},
                            ConditionExpression="#v < :v", ExpressionAttributeNames={"#v": "ts"},
                            ExpressionAttributeValues={":v": {"S": "2026-12-06T08:00:00.000000Z"}}))[1])
    run("newer with load id: not_exists(v) OR v < :v OR (v = :v AND tl = :l)",
        lambda: (c.put_item(TableName="tbl", Item={"pk": {"S": "q"}, "v": {"N": "3"}, "tl": {"S": "L1"}}),
                 c.put_item(TableName="tbl", Item={"pk": {"S": "q"}, "v": {"N": "3"}, "tl": {"S": "L1"}},
                            ConditionExpression="attribute_not_exists(#v) OR #v < :v OR (#v = :v AND #tl = :l)",
                            ExpressionAttributeNames={"#v": "v", "#tl": "tl"},
                            ExpressionAttributeValues={":v": {"N": "3"}, ":l": {"S": "L1"}}))[1])
    run("merge: UpdateItem SET/REMOVE on existing, ALL_NEW",
        lambda: c.update_item(TableName="tbl", Key=K, UpdateExpression="SET #a = :a, #b = :b REMOVE #x",
                              ExpressionAttributeNames={"#a": "price usd", "#b": "e", "#x": "x"},
                              ExpressionAttributeValues={":a": {"N": "12.5"}, ":b": {"S": ""}},
                              ReturnValues="ALL_NEW", ReturnConsumedCapacity="TOTAL"))
    run("merge: UpdateItem on absent key creates it",
        lambda: c.update_item(TableName="tbl", Key={"pk": {"S": "new"}}, UpdateExpression="SET #a = :a REMOVE #x",
                              ExpressionAttributeNames={"#a": "a", "#x": "x"},
                              ExpressionAttributeValues={":a": {"N": "1"}}, ReturnValues="ALL_NEW"))
    run("merge: UpdateItem REMOVE only (key absent)",
        lambda: c.update_item(TableName="tbl", Key={"pk": {"S": "r"}}, UpdateExpression="REMOVE #x",
                              ExpressionAttributeNames={"#x": "x"}, ReturnValues="ALL_NEW"))
    run("merge: SET key attribute (expect ValidationException)",
        lambda: c.update_item(TableName="tbl", Key=K, UpdateExpression="SET #k = :k",
                              ExpressionAttributeNames={"#k": "pk"}, ExpressionAttributeValues={":k": {"S": "a"}}))
    run("merge: same path in SET and REMOVE (expect ValidationException)",
        lambda: c.update_item(TableName="tbl", Key=K, UpdateExpression="SET #a = :a REMOVE #a",
                              ExpressionAttributeNames={"#a": "a"}, ExpressionAttributeValues={":a": {"N": "1"}}))
    run("merge: UpdateItem with condition + ReturnValuesOnConditionCheckFailure (CCF)",
        lambda: c.update_item(TableName="tbl", Key=K, UpdateExpression="SET #a = :a",
                              ConditionExpression="attribute_not_exists(pk)",
                              ReturnValuesOnConditionCheckFailure="ALL_OLD",
                              ExpressionAttributeNames={"#a": "a"}, ExpressionAttributeValues={":a": {"N": "1"}}))
    run("newer via UpdateItem: SET with condition on absent item (upsert)",
        lambda: c.update_item(TableName="tbl", Key={"pk": {"S": "u"}}, UpdateExpression="SET #v = :v, #a = :a",
                              ConditionExpression="attribute_not_exists(#v) OR #v < :v",
                              ExpressionAttributeNames={"#v": "v", "#a": "a"},
                              ExpressionAttributeValues={":v": {"N": "2"}, ":a": {"S": "z"}}))
    run("functions: attribute_type, begins_with, size, contains",
        lambda: c.put_item(TableName="tbl", Item={"pk": {"S": "a"}, "v": {"N": "9"}},
                           ConditionExpression="attribute_type(#v, :n) AND begins_with(pk, :p) AND size(pk) = :one AND contains(pk, :p)",
                           ExpressionAttributeNames={"#v": "v"},
                           ExpressionAttributeValues={":n": {"S": "N"}, ":p": {"S": "a"}, ":one": {"N": "1"}}))
    run("delete absent item (no condition)", lambda: c.delete_item(TableName="tbl", Key={"pk": {"S": "zz"}},
                                                                   ReturnConsumedCapacity="TOTAL", ReturnValues="ALL_OLD"))
    run("delete with condition tl = :l (expect CCF, item b has tl L1)",
        lambda: c.delete_item(TableName="tbl", Key={"pk": {"S": "b"}}, ConditionExpression="#tl = :l",
                              ExpressionAttributeNames={"#tl": "tl"}, ExpressionAttributeValues={":l": {"S": "L9"}}))
    run("BatchWriteItem PutRequest with ConditionExpression (expect refusal)",
        lambda: c.batch_write_item(RequestItems={"tbl": [{"PutRequest": {"Item": {"pk": {"S": "c"}},
                                                                       "ConditionExpression": "attribute_not_exists(pk)"}}]}))
    run("unused ExpressionAttributeValues (expect ValidationException)",
        lambda: c.put_item(TableName="tbl", Item={"pk": {"S": "a"}}, ConditionExpression="attribute_exists(pk)",
                           ExpressionAttributeValues={":unused": {"S": "x"}}))
    print("final items:", json.dumps(c.scan(TableName="tbl")["Items"])[:900])
