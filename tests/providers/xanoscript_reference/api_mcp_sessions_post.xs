query "mcp_sessions" verb=POST {
  description = "Create an MCP session"
  input {
    text session_id filters=trim
    text user_id filters=trim
    json client_info?
    text status?="active" filters=trim
  }

  stack {
    db.add mcp_sessions {
      data = {
        session_id : $input.session_id
        user_id    : $input.user_id
        client_info: $input.client_info
        status     : $input.status
        last_active: now
        created_at : now
        updated_at : now
      }
    } as $session
  }

  response = $session
}
