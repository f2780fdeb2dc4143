"""One module per role: organiser, facilitator, screen, participant, helper, api."""
