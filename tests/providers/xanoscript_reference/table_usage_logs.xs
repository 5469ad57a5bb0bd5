table usage_logs {
  auth = false
  description = "One row per MCP tool call"
  schema {
    int id
    text session_id filters=trim
    text user_id filters=trim
    text tool_name filters=trim
    json params?
    json result?
    text? error?
    int duration?
    timestamp timestamp?=now
    text ip_address? filters=trim
    text ai_model? filters=trim
    decimal cost?
    timestamp created_at?=now
  }

  index = [
    {type: "primary", field: [{name: "id"}]}
    {type: "btree", field: [{name: "session_id"}]}
    {type: "btree", field: [{name: "user_id"}]}
    {type: "btree", field: [{name: "created_at", op: "desc"}]}
  ]
}
