query "mcp_sessions/{session_id}" verb=GET {
  description = "Fetch one MCP session by its session_id (404 when missing)"
  input {
    text session_id filters=trim
  }

  stack {
    db.get mcp_sessions {
      field_name = "session_id"
      field_value = $input.session_id
    } as $session

    precondition ($session != null) {
      error_type = "notfound"
      error = "Session not found"
    }
  }

  response = $session
}
