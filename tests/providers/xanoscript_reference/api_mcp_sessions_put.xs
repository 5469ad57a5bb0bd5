query "mcp_sessions/{session_id}" verb=PUT {
  description = "Touch an MCP session: update last_active and optionally status"
  input {
    text session_id filters=trim
    text status? filters=trim
    timestamp last_active?
  }

  stack {
    db.get mcp_sessions {
      field_name = "session_id"
      field_value = $input.session_id
    } as $existing

    precondition ($existing != null) {
      error_type = "notfound"
      error = "Session not found"
    }

    db.edit mcp_sessions {
      field_name = "id"
      field_value = $existing.id
      data = {
        status     : $input.status|first_notnull:$existing.status
        last_active: $input.last_active|first_notnull:now
        updated_at : now
      }
    } as $session
  }

  response = $session
}
