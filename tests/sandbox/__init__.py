"""Tests of the sandbox's emulated services.

The XanoScript documents below are the checklist's tables and endpoints as written in the team's reference
(Xano's own examples of what its grammar accepts): the sandbox must accept them and run them.
"""

from __future__ import annotations

TABLE_MCP_SESSIONS = """\
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
"""

TABLE_USAGE_LOGS = """\
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
"""

API_MCP_SESSIONS_GET = """\
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
"""

API_MCP_SESSIONS_POST = """\
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
"""

API_MCP_SESSIONS_PUT = """\
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
"""

API_USAGE_LOGS_POST = """\
query "usage_logs" verb=POST {
  description = "Record one MCP tool call"
  input {
    text session_id filters=trim
    text user_id filters=trim
    text tool_name filters=trim
    json params?
    json result?
    text? error?
    int duration?
    timestamp timestamp?
    text ip_address? filters=trim
    text ai_model? filters=trim
    decimal cost?
  }

  stack {
    db.add usage_logs {
      data = {
        session_id: $input.session_id
        user_id   : $input.user_id
        tool_name : $input.tool_name
        params    : $input.params
        result    : $input.result
        error     : $input.error
        duration  : $input.duration
        timestamp : $input.timestamp|first_notnull:now
        ip_address: $input.ip_address|first_notnull:$env.$remote_ip
        ai_model  : $input.ai_model
        cost      : $input.cost
        created_at: now
      }
    } as $log
  }

  response = $log
}
"""

REFERENCE_TABLES = [TABLE_MCP_SESSIONS, TABLE_USAGE_LOGS]
REFERENCE_ENDPOINTS = [API_MCP_SESSIONS_POST, API_MCP_SESSIONS_GET, API_MCP_SESSIONS_PUT, API_USAGE_LOGS_POST]
