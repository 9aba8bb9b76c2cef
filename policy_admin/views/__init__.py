"""The policy pages: list, editor, each rule kind, audit log and the platform floor."""
