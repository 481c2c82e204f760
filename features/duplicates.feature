@duplicates
Feature: Duplicate names
  "If a new user tries to join with the same name as an already active user,
  then an error message should be sent back to client. Client can try again
  with a new name."

  Rule: A name that an active user holds is refused with J_ER

    @must
    Scenario: A second client cannot take an active user's name
      Given alice has joined
      And bob has connected
      When bob sends JOIN with alice's name
      Then bob receives J_ER

    @must
    Scenario: The refused client does not replace the active user
      Given alice and carol have joined
      And bob has connected
      When bob sends JOIN with alice's name
      Then bob receives J_ER
      When alice sends DATA "still me"
      Then carol receives DATA "still me" from alice
