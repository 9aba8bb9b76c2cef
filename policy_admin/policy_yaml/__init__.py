"""Policy as code: a policy's draft as YAML (schema version 1), and back.

`document` turns a draft into a plain mapping and YAML text and reads YAML
safely; `schema` checks a parsed document and reports every problem with its
path; `archive` reads example images from a zip. The writes are
policy_admin.services.policy_yaml.
"""
