"""The CRM of the emulated portal: entity types, fields, values, records, stages, user fields."""
