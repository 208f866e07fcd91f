"""Operations and cohorts: the operation record (record), the compiled operation sections (model, compile), money (funding), the streaming cohort pass (indicators, parts) and the report (report)."""
