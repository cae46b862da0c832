"""The CRM connectors (HubSpot, Salesforce) behind one interface, their OAuth installs, the outbox
action that writes each debrief, and the read-back of won and lost deals."""
