"""The demo city (青溪区) and what is built on it for trying the app and for the tests: its layers and population,
bookings, health deliveries, field reports, and a synthetic province for the partitioned run."""
