@quitting
Feature: Quitting
  "The Client must send a Quit message when it is closing."
  "QUIT: From client to server. Client is closing down and leaving the group."
  (The assignment's text spells it "OUIT", a typo: its earlier edition and
  every known implementation use QUIT.)

  @must @rule:quitting.name-free
  Rule: A user who quits is no longer active, so the name is free again

    Scenario: Another client can take the name of a user who quit
      Given alice and carol have joined
      When alice quits and the server has had time to notice
      And bob sends JOIN with alice's name
      Then bob receives J_OK

  @must @rule:quitting.nothing-after
  Rule: A user who quits receives nothing more

    Scenario: Messages sent after QUIT do not reach the quitter
      Given alice, bob and carol have joined
      And carol has received a DATA from alice
      When bob quits and the server has had time to notice
      And alice sends DATA "bob is gone"
      Then carol receives DATA "bob is gone" from alice
      And bob receives no DATA from alice

  @should @rule:quitting.closes
  Rule: The server closes the connection after QUIT

    Scenario: QUIT ends the connection
      Given alice has joined
      When alice quits
      Then alice's connection is closed by the server
