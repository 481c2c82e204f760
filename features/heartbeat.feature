@heartbeat
Feature: Heartbeat
  "The Client must send a "heartbeat alive" message once every minute to the
  Server. The server should (maybe with a specialized thread) check the
  active list, and delete clients that stop sending heartbeat messages."
  "IMAV: From client to server. Client sends this heartbeat alive every 1
  minute."

  Every client the suite opens sends IMAV at the -heartbeat interval while
  it lives, unless a scenario makes it go silent. The timing rules wait for
  the -expiry window: set it a little above the server's heartbeat timeout.
  While the window passes, the suite watches every heartbeating client: the
  first one the server drops (its connection closed, or a LIST without it)
  fails the rule there and then.

  @must @slow @rule:heartbeat.keep-alive
  Rule: A client that keeps sending IMAV stays active

    Scenario: A heartbeating client is kept for the whole expiry window
      Given alice and bob have joined
      And alice has received a DATA from bob
      When the expiry time passes
      Then alice has received no LIST without bob
      And bob's connection is still open
      When bob sends DATA "still here"
      Then alice receives DATA "still here" from bob

  @must @slow @rule:heartbeat.drop-silent
  Rule: A client that stops sending IMAV is removed, and the others receive the new LIST

    Scenario: A silent client is dropped
      Given alice and bob have joined
      And alice has received a LIST with alice and bob
      When bob goes silent
      Then alice receives a new LIST that removes bob within the expiry time

  @should @slow @rule:heartbeat.close-silent
  Rule: The connection of a dropped client is closed

    Scenario: The server closes a silent client's connection
      Given alice has joined
      When alice goes silent
      Then alice's connection is closed by the server within the expiry time

  @should @rule:heartbeat.no-reply
  Rule: IMAV needs no answer

    Scenario: IMAV is not answered
      Given alice and bob have joined
      When alice sends IMAV
      Then alice receives no reply
