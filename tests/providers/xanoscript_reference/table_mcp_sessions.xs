table mcp_sessions {
  auth = false
  description = "MCP client sessions"
  schema {
    int id
    text session_id filters=trim
    text user_id filters=trim
    json client_info?
    text status?="active" filters=trim
    timestamp last_active?=now
    timestamp created_at?=now
    timestamp updated_at?=now
  }

  index = [
    {type: "primary", field: [{name: "id"}]}
    {type: "btree|unique", field: [{name: "session_id"}]}
    {type: "btree", field: [{name: "user_id"}]}
  ]
}
