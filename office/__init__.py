"""The alliance's office work on top of the layers: bookings of public-benefit hours (contacts and the service
package), field reports and their photos, incidents, the accounts people sign in with and the instance secret.
Each uses the stores in :mod:`layers.stores`; none is a layer of the map."""
