@duplicates
Feature: Duplicate names
  "If a new user tries to join with the same name as an already active user,
  then an error message should be sent back to client. Client can try again
  with a new name."

  @must @rule:duplicates.refused
  Rule: A name that an active user holds is refused with J_ER

    A refusal counts only from a server that accepts a valid, free name at
    the same time.

    Scenario: A second client cannot take an active user's name
      Given alice has joined
      And bob has connected
      When bob sends JOIN with alice's name
      Then bob receives J_ER
      And the server still accepts a valid name

  @must @rule:duplicates.no-takeover
  Rule: The refused client does not replace the active user

    Scenario: The active user keeps the name and goes on chatting
      Given alice and carol have joined
      And carol has received a DATA from alice
      And bob has been refused alice's name
      When alice sends DATA "still me"
      Then carol receives DATA "still me" from alice
