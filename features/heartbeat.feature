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

  Rule: A client that keeps sending IMAV stays active

    @must @slow
    Scenario: A heartbeating client is kept for the whole expiry window
      Given alice and bob have joined
      And alice receives a LIST with alice and bob
      When the expiry time passes
      Then alice has received no LIST without bob
      When bob sends DATA "still here"
      Then alice receives DATA "still here" from bob

  Rule: A client that stops sending IMAV is removed, and the others receive the new LIST

    @must @slow
    Scenario: A silent client is dropped
      Given alice and bob have joined
      And alice receives a LIST with alice and bob
      When bob goes silent
      Then alice receives a LIST without bob within the expiry time

  Rule: The connection of a dropped client is closed

    @should @slow
    Scenario: The server closes a silent client's connection
      Given alice and bob have joined
      When bob goes silent
      Then bob's connection is closed by the server within the expiry time

  Rule: IMAV needs no answer

    @should
    Scenario: IMAV is not answered with an error
      Given alice has joined
      When alice sends IMAV
      Then alice receives no reply
