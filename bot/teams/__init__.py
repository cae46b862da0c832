"""Microsoft Teams: botbuilder's CloudAdapter on the shared app, cards, connector, sender and people."""
