@presence
Feature: Presence
  "When a client joins, the server should maintain and update a list of all
  active clients."
  "LIST <<name1 name2 name3 ...>>: From server to client. A list of all
  active user names is sent to all clients, each time the list at the
  server changes."

  The suite checks what a LIST includes and does not include; the order of
  the names is the server's choice, and other users may be present.

  Rule: When a user joins, every active client receives the new LIST

    @must
    Scenario: The clients already there learn of the newcomer
      Given alice has joined
      When bob joins
      Then bob receives J_OK
      And alice receives a LIST with alice and bob

    @must
    Scenario: The newcomer receives the LIST too
      Given alice has joined
      When bob joins
      Then bob receives a LIST with alice and bob

  Rule: The newcomer receives J_OK before any LIST

    @should
    Scenario: J_OK comes first
      Given alice has connected
      When alice joins
      Then alice receives J_OK before any LIST

  Rule: When a user quits, every active client receives the new LIST

    @must
    Scenario: The others learn that a user quit
      Given alice and bob have joined
      And alice receives a LIST with alice and bob
      When bob quits
      Then alice receives a LIST without bob

  Rule: When a connection closes without QUIT, the others receive the new LIST at once

    @should
    Scenario: An abrupt disconnect is noticed without waiting for the heartbeat
      Given alice and bob have joined
      And alice receives a LIST with alice and bob
      When bob closes the connection without QUIT
      Then alice receives a LIST without bob
