"""Who made it? Equipment inventories, the registries that name makers (IEEE OUI, IANA PEN)
and the vendor families that group legal entities, subsidiaries, brands and white labels."""
