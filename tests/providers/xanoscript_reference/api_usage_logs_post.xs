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
