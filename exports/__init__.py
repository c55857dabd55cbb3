"""File writers: tables, vectors and surfaces, print maps, the district report, the nearby sheet."""
