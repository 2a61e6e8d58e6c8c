"""DynamoDB: the table definitions, the repositories, the deadline, who may call what."""
