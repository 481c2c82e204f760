@quitting
Feature: Quitting
  "The Client must send a Quit message when it is closing."
  "QUIT: From client to server. Client is closing down and leaving the group."
  (The assignment's text spells it "OUIT", a typo: its earlier edition and
  every known implementation use QUIT.)

  Rule: A user who quits is no longer active, so the name is free again

    @must
    Scenario: Another client can take the name of a user who quit
      Given alice has joined
      When alice quits and the server has had time to notice
      And bob sends JOIN with alice's name
      Then bob receives J_OK

  Rule: A user who quits receives nothing more

    @must
    Scenario: Messages sent after QUIT do not reach the quitter
      Given alice and bob have joined
      When bob quits and the server has had time to notice
      And alice sends DATA "bob is gone"
      Then alice receives DATA "bob is gone" from alice
      And bob receives no DATA from alice

  Rule: The server closes the connection after QUIT

    @should
    Scenario: QUIT ends the connection
      Given alice has joined
      When alice quits
      Then alice's connection is closed by the server
