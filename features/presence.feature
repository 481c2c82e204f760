@presence
Feature: Presence
  "When a client joins, the server should maintain and update a list of all
  active clients."
  "LIST <<name1 name2 name3 ...>>: From server to client. A list of all
  active user names is sent to all clients, each time the list at the
  server changes."

  The suite checks what a LIST includes and does not include; the order of
  the names is the server's choice, and other users may be present. A rule
  about the LIST that an event causes counts only a LIST whose change from
  the one before is that event's: a LIST that another event caused does
  not count. These scenarios run alone, with no other scenario's clients
  coming and going.

  @must @isolated @rule:presence.list-on-join
  Rule: When a user joins, every active client receives the new LIST

    Scenario: The clients already there learn of the newcomer
      Given alice has joined
      When bob joins
      Then alice receives a new LIST that adds bob

  @must @isolated @rule:presence.list-to-joiner
  Rule: The newcomer receives the LIST too

    Scenario: The newcomer receives the LIST
      Given alice has joined
      When bob joins
      Then bob receives a LIST with alice and bob

  @should @rule:presence.ok-first
  Rule: The newcomer receives J_OK before any LIST

    Scenario: J_OK comes first
      Given alice has connected
      When alice joins
      Then alice receives J_OK before any LIST

  @must @isolated @rule:presence.list-on-quit
  Rule: When a user quits, every active client receives the new LIST

    Scenario: The others learn that a user quit
      Given alice and bob have joined
      And alice has received a LIST with alice and bob
      When bob quits
      Then alice receives a new LIST that removes bob

  @should @isolated @rule:presence.list-on-close
  Rule: When a connection closes without QUIT, the others receive the new LIST at once

    Scenario: An abrupt disconnect is noticed without waiting for the heartbeat
      Given alice and bob have joined
      And alice has received a LIST with alice and bob
      When bob closes the connection without QUIT
      Then alice receives a new LIST that removes bob

  @must @isolated @rule:presence.list-shape
  Rule: A LIST is "LIST <name> <name> ...": names separated by spaces

    "LIST <<name1 name2 name3 ...>>": a client splits the names at spaces.
    A trailing space is harmless; a colon after LIST or commas between the
    names are not. Everywhere else the suite reads such a LIST as meant.

    Scenario: The LIST names are separated by spaces
      Given alice and bob have joined
      And alice has received a LIST with alice and bob
      Then every LIST alice received names its users separated by spaces
