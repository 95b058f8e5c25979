/// The API description served at `/openapi.json`; docs/api/openapi.json holds the same text (a test
/// keeps them equal).
enum OpenAPIDocument {
    static let json = #"""
        {
          "components": {
            "schemas": {
              "ApplyRequest": {
                "properties": {
                  "plan": {
                    "description": "a plan from `stellwerk plan --json` (format 1, with its rollout policy)",
                    "type": "object"
                  }
                },
                "required": [
                  "plan"
                ],
                "type": "object"
              },
              "DecisionRequest": {
                "properties": {
                  "reason": {
                    "type": "string"
                  }
                },
                "required": [
                  "reason"
                ],
                "type": "object"
              },
              "DecisionView": {
                "properties": {
                  "approver": {
                    "type": "string"
                  },
                  "at": {
                    "type": "string"
                  },
                  "decision": {
                    "enum": [
                      "approve",
                      "reject"
                    ],
                    "type": "string"
                  },
                  "reason": {
                    "type": "string"
                  }
                },
                "required": [
                  "approver",
                  "decision",
                  "reason",
                  "at"
                ],
                "type": "object"
              },
              "DesiredStateResponse": {
                "properties": {
                  "serial": {
                    "type": "integer"
                  },
                  "state": {
                    "$ref": "#/components/schemas/NodeDesiredState"
                  }
                },
                "required": [
                  "serial",
                  "state"
                ],
                "type": "object"
              },
              "ErrorBody": {
                "properties": {
                  "error": {
                    "properties": {
                      "code": {
                        "enum": [
                          "bad-request",
                          "unauthorized",
                          "forbidden",
                          "not-found",
                          "conflict",
                          "stale-plan",
                          "too-large",
                          "method-not-allowed",
                          "unavailable",
                          "internal"
                        ],
                        "type": "string"
                      },
                      "message": {
                        "type": "string"
                      }
                    },
                    "required": [
                      "code",
                      "message"
                    ],
                    "type": "object"
                  }
                },
                "required": [
                  "error"
                ],
                "type": "object"
              },
              "GateView": {
                "properties": {
                  "detail": {
                    "type": "string"
                  },
                  "name": {
                    "enum": [
                      "verified",
                      "approvals",
                      "windows"
                    ],
                    "type": "string"
                  },
                  "open": {
                    "type": "boolean"
                  }
                },
                "required": [
                  "name",
                  "open",
                  "detail"
                ],
                "type": "object"
              },
              "IssuedToken": {
                "properties": {
                  "expiresAt": {
                    "format": "date-time",
                    "type": "string"
                  },
                  "id": {
                    "type": "string"
                  },
                  "token": {
                    "type": "string"
                  }
                },
                "required": [
                  "id",
                  "token"
                ],
                "type": "object"
              },
              "JoinRequest": {
                "properties": {
                  "certificateRequest": {
                    "description": "PKCS#10, PEM",
                    "type": "string"
                  },
                  "token": {
                    "type": "string"
                  }
                },
                "required": [
                  "token",
                  "certificateRequest"
                ],
                "type": "object"
              },
              "JoinResponse": {
                "properties": {
                  "authority": {
                    "type": "string"
                  },
                  "certificate": {
                    "type": "string"
                  },
                  "environment": {
                    "type": "string"
                  },
                  "node": {
                    "type": "string"
                  },
                  "signingKey": {
                    "description": "Ed25519 public key, base64",
                    "type": "string"
                  },
                  "site": {
                    "type": "string"
                  }
                },
                "required": [
                  "environment",
                  "site",
                  "node",
                  "certificate",
                  "authority",
                  "signingKey"
                ],
                "type": "object"
              },
              "JoinTokenRequest": {
                "properties": {
                  "environment": {
                    "type": "string"
                  },
                  "node": {
                    "type": "string"
                  },
                  "site": {
                    "type": "string"
                  },
                  "ttlSeconds": {
                    "type": "integer"
                  }
                },
                "required": [
                  "environment",
                  "site",
                  "node",
                  "ttlSeconds"
                ],
                "type": "object"
              },
              "NodeDesiredState": {
                "description": "node, site, environment, address, instances (InstanceSpec), releases (SignedReleaseManifest)",
                "type": "object"
              },
              "NodeReport": {
                "description": "node, environment, desiredSerial, instances: spec, state (running|starting|unhealthy|crash-looping|stopped), health, lastError, drift",
                "type": "object"
              },
              "PromotionRequest": {
                "properties": {
                  "dryRun": {
                    "type": "boolean"
                  },
                  "message": {
                    "type": "string"
                  },
                  "plan": {
                    "description": "a plan from `stellwerk promote` (format 1, with its rollout policy and promotion gates)",
                    "type": "object"
                  }
                },
                "required": [
                  "plan",
                  "dryRun"
                ],
                "type": "object"
              },
              "PromotionSiteView": {
                "properties": {
                  "detail": {
                    "type": "string"
                  },
                  "nodes": {
                    "items": {
                      "type": "string"
                    },
                    "type": "array"
                  },
                  "rollout": {
                    "type": "string"
                  },
                  "site": {
                    "type": "string"
                  },
                  "state": {
                    "enum": [
                      "pending",
                      "rolling-out",
                      "done",
                      "failed",
                      "not-started"
                    ],
                    "type": "string"
                  },
                  "wave": {
                    "description": "0 for the canary site",
                    "type": "integer"
                  },
                  "windowOpensAt": {
                    "type": "string"
                  }
                },
                "required": [
                  "site",
                  "wave",
                  "state",
                  "nodes",
                  "detail"
                ],
                "type": "object"
              },
              "PromotionView": {
                "properties": {
                  "createdAt": {
                    "type": "string"
                  },
                  "decisions": {
                    "items": {
                      "$ref": "#/components/schemas/DecisionView"
                    },
                    "type": "array"
                  },
                  "gates": {
                    "items": {
                      "$ref": "#/components/schemas/GateView"
                    },
                    "type": "array"
                  },
                  "id": {
                    "type": "string"
                  },
                  "message": {
                    "type": "string"
                  },
                  "release": {
                    "type": "string"
                  },
                  "requestedBy": {
                    "type": "string"
                  },
                  "sites": {
                    "items": {
                      "$ref": "#/components/schemas/PromotionSiteView"
                    },
                    "type": "array"
                  },
                  "source": {
                    "type": "string"
                  },
                  "state": {
                    "enum": [
                      "dry-run",
                      "waiting",
                      "rolling-out",
                      "succeeded",
                      "failed",
                      "rejected",
                      "cancelled"
                    ],
                    "type": "string"
                  },
                  "target": {
                    "type": "string"
                  },
                  "updatedAt": {
                    "type": "string"
                  }
                },
                "required": [
                  "id",
                  "release",
                  "source",
                  "target",
                  "state",
                  "requestedBy",
                  "message",
                  "gates",
                  "sites",
                  "decisions",
                  "createdAt",
                  "updatedAt"
                ],
                "type": "object"
              },
              "ReleaseManifest": {
                "description": "id, version, revision, components: name \u2192 {sha256, size, migrations}; createdAt and createdBy are set by the orchestrator",
                "type": "object"
              },
              "RenewalRequest": {
                "properties": {
                  "certificateRequest": {
                    "type": "string"
                  }
                },
                "required": [
                  "certificateRequest"
                ],
                "type": "object"
              },
              "RenewalResponse": {
                "properties": {
                  "certificate": {
                    "type": "string"
                  }
                },
                "required": [
                  "certificate"
                ],
                "type": "object"
              },
              "RollbackPreview": {
                "properties": {
                  "environment": {
                    "type": "string"
                  },
                  "from": {
                    "type": "string"
                  },
                  "nodes": {
                    "items": {
                      "type": "string"
                    },
                    "type": "array"
                  },
                  "restores": {
                    "items": {
                      "type": "string"
                    },
                    "type": "array"
                  },
                  "to": {
                    "type": "string"
                  }
                },
                "required": [
                  "environment",
                  "from",
                  "to",
                  "nodes",
                  "restores"
                ],
                "type": "object"
              },
              "RolloutStepView": {
                "properties": {
                  "detail": {
                    "type": "string"
                  },
                  "node": {
                    "type": "string"
                  },
                  "site": {
                    "type": "string"
                  },
                  "startedAt": {
                    "type": "string"
                  },
                  "state": {
                    "enum": [
                      "waiting",
                      "installing",
                      "health",
                      "done",
                      "failed",
                      "skipped",
                      "not-started",
                      "rolling-back",
                      "rolled-back",
                      "rollback-failed"
                    ],
                    "type": "string"
                  },
                  "updatedAt": {
                    "type": "string"
                  },
                  "wave": {
                    "type": "integer"
                  }
                },
                "required": [
                  "node",
                  "site",
                  "wave",
                  "state",
                  "detail",
                  "updatedAt"
                ],
                "type": "object"
              },
              "RolloutView": {
                "properties": {
                  "createdAt": {
                    "type": "string"
                  },
                  "createdBy": {
                    "type": "string"
                  },
                  "environment": {
                    "type": "string"
                  },
                  "id": {
                    "type": "string"
                  },
                  "message": {
                    "type": "string"
                  },
                  "release": {
                    "type": "string"
                  },
                  "state": {
                    "enum": [
                      "running",
                      "paused",
                      "succeeded",
                      "failed",
                      "cancelled",
                      "rolling-back",
                      "rolled-back"
                    ],
                    "type": "string"
                  },
                  "steps": {
                    "items": {
                      "$ref": "#/components/schemas/RolloutStepView"
                    },
                    "type": "array"
                  },
                  "updatedAt": {
                    "type": "string"
                  }
                },
                "required": [
                  "id",
                  "environment",
                  "release",
                  "state",
                  "message",
                  "createdBy",
                  "createdAt",
                  "updatedAt",
                  "steps"
                ],
                "type": "object"
              },
              "SignedReleaseManifest": {
                "properties": {
                  "keyFingerprint": {
                    "type": "string"
                  },
                  "manifest": {
                    "$ref": "#/components/schemas/ReleaseManifest"
                  },
                  "signature": {
                    "type": "string"
                  }
                },
                "required": [
                  "manifest",
                  "signature",
                  "keyFingerprint"
                ],
                "type": "object"
              },
              "SigningKeyView": {
                "properties": {
                  "fingerprint": {
                    "description": "first 16 hex digits of the key's SHA-256",
                    "type": "string"
                  },
                  "publicKey": {
                    "description": "raw 32-byte Ed25519 key, base64",
                    "type": "string"
                  }
                },
                "required": [
                  "publicKey",
                  "fingerprint"
                ],
                "type": "object"
              },
              "StateSnapshot": {
                "description": "serial, environment, nodes (site, address, instances), secrets (fingerprints)",
                "type": "object"
              },
              "StatusDocument": {
                "description": "generatedAt, environments: name, serial, activeRollout, nodes: node, site, address, connection (pending|connected|disconnected), lastSeen, desiredSerial, reportedSerial, instances: service, release, desiredRelease, state, health, lastError, drift",
                "type": "object"
              },
              "UserRequest": {
                "properties": {
                  "name": {
                    "type": "string"
                  },
                  "roles": {
                    "additionalProperties": {
                      "enum": [
                        "viewer",
                        "operator",
                        "approver",
                        "admin"
                      ],
                      "type": "string"
                    },
                    "type": "object"
                  }
                },
                "required": [
                  "name",
                  "roles"
                ],
                "type": "object"
              },
              "UserView": {
                "properties": {
                  "createdAt": {
                    "type": "string"
                  },
                  "createdBy": {
                    "type": "string"
                  },
                  "name": {
                    "type": "string"
                  },
                  "revokedAt": {
                    "type": "string"
                  },
                  "roles": {
                    "type": "object"
                  }
                },
                "required": [
                  "name",
                  "roles",
                  "createdBy",
                  "createdAt"
                ],
                "type": "object"
              }
            },
            "securitySchemes": {
              "bearerToken": {
                "scheme": "bearer",
                "type": "http"
              },
              "nodeCertificate": {
                "type": "mutualTLS"
              }
            }
          },
          "info": {
            "description": "Agents authenticate with the client certificate they got when joining (mutual TLS); operators with an API token (Authorization: Bearer). Every error is a JSON ErrorBody.",
            "title": "Stellwerk orchestrator API",
            "version": "1"
          },
          "openapi": "3.0.3",
          "paths": {
            "/health": {
              "get": {
                "responses": {
                  "200": {
                    "description": "ready"
                  },
                  "503": {
                    "description": "the store does not answer"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [],
                "summary": "Liveness and readiness (the state store answers)."
              }
            },
            "/metrics": {
              "get": {
                "responses": {
                  "200": {
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    },
                    "description": "text exposition format"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [],
                "summary": "Prometheus metrics."
              }
            },
            "/openapi.json": {
              "get": {
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    },
                    "description": "OpenAPI 3.0 document"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [],
                "summary": "This document."
              }
            },
            "/v1/agent/certificate": {
              "post": {
                "requestBody": {
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/RenewalRequest"
                      }
                    }
                  },
                  "required": true
                },
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RenewalResponse"
                        }
                      }
                    },
                    "description": "new certificate"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "nodeCertificate": []
                  }
                ],
                "summary": "Renew the node certificate for a new key."
              }
            },
            "/v1/agent/desired-state": {
              "get": {
                "parameters": [
                  {
                    "description": "serial the agent has",
                    "in": "query",
                    "name": "known",
                    "required": false,
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "description": "seconds to wait, at most 60",
                    "in": "query",
                    "name": "wait",
                    "required": false,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/DesiredStateResponse"
                        }
                      }
                    },
                    "description": "newer desired state"
                  },
                  "204": {
                    "description": "nothing newer within wait"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "nodeCertificate": []
                  }
                ],
                "summary": "Long-poll the node's desired state."
              }
            },
            "/v1/agent/report": {
              "post": {
                "requestBody": {
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/NodeReport"
                      }
                    }
                  },
                  "required": true
                },
                "responses": {
                  "204": {
                    "description": "stored"
                  },
                  "403": {
                    "description": "the report is for another node"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "nodeCertificate": []
                  }
                ],
                "summary": "Report what the node runs."
              }
            },
            "/v1/artifacts/{sha256}": {
              "get": {
                "parameters": [
                  {
                    "description": "",
                    "in": "path",
                    "name": "sha256",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "the artifact"
                  },
                  "206": {
                    "description": "the range asked for"
                  },
                  "416": {
                    "description": "range outside the artifact"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "nodeCertificate": []
                  },
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Download an artifact; honours Range (bytes=START-END) for resuming."
              },
              "put": {
                "parameters": [
                  {
                    "description": "",
                    "in": "path",
                    "name": "sha256",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "201": {
                    "description": "stored"
                  },
                  "204": {
                    "description": "already stored"
                  },
                  "400": {
                    "description": "digest mismatch"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Upload an artifact; refused unless its bytes have this SHA-256 (operator)."
              }
            },
            "/v1/audit": {
              "get": {
                "parameters": [
                  {
                    "description": "",
                    "in": "query",
                    "name": "limit",
                    "required": false,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "items": {
                            "type": "object"
                          },
                          "type": "array"
                        }
                      }
                    },
                    "description": "entries"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "The newest audit entries (admin)."
              }
            },
            "/v1/ca": {
              "get": {
                "responses": {
                  "200": {
                    "content": {
                      "application/x-pem-file": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    },
                    "description": "PEM"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [],
                "summary": "The orchestrator's CA certificate (PEM); agents compare its SHA-256 with the pinned fingerprint."
              }
            },
            "/v1/environments/{env}/rollback": {
              "get": {
                "parameters": [
                  {
                    "description": "",
                    "in": "path",
                    "name": "env",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RollbackPreview"
                        }
                      }
                    },
                    "description": "what a rollback would do"
                  },
                  "409": {
                    "description": "nothing to roll back to"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Preview a rollback (operator): the release it goes back to, and the instances whose data returns to a backup because they pass migrations that cannot be undone."
              },
              "post": {
                "parameters": [
                  {
                    "description": "",
                    "in": "path",
                    "name": "env",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "201": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RolloutView"
                        }
                      }
                    },
                    "description": "the rollback rollout"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Roll back to the last release that was healthy everywhere (operator)."
              }
            },
            "/v1/environments/{env}/snapshot": {
              "get": {
                "parameters": [
                  {
                    "description": "",
                    "in": "path",
                    "name": "env",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/StateSnapshot"
                        }
                      }
                    },
                    "description": "snapshot"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "The recorded state plans are computed against (viewer)."
              }
            },
            "/v1/events": {
              "get": {
                "parameters": [
                  {
                    "description": "",
                    "in": "query",
                    "name": "env",
                    "required": false,
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "description": "",
                    "in": "query",
                    "name": "after",
                    "required": false,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "text/event-stream": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    },
                    "description": "event stream"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Server-sent events: rollouts, steps, reports, joins. Resume with Last-Event-ID."
              }
            },
            "/v1/join": {
              "post": {
                "requestBody": {
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/JoinRequest"
                      }
                    }
                  },
                  "required": true
                },
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/JoinResponse"
                        }
                      }
                    },
                    "description": "the node's identity"
                  },
                  "403": {
                    "description": "token unknown, used or expired"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [],
                "summary": "Redeem a single-use join token for a node certificate."
              }
            },
            "/v1/join-tokens": {
              "get": {
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "items": {
                            "type": "object"
                          },
                          "type": "array"
                        }
                      }
                    },
                    "description": "tokens"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Join tokens, without their secrets (admin)."
              },
              "post": {
                "requestBody": {
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/JoinTokenRequest"
                      }
                    }
                  },
                  "required": true
                },
                "responses": {
                  "201": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/IssuedToken"
                        }
                      }
                    },
                    "description": "the token, shown once"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Create a single-use join token for one node (admin)."
              }
            },
            "/v1/promotions": {
              "get": {
                "parameters": [
                  {
                    "description": "only promotions into this environment",
                    "in": "query",
                    "name": "env",
                    "required": false,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "items": {
                            "$ref": "#/components/schemas/PromotionView"
                          },
                          "type": "array"
                        }
                      }
                    },
                    "description": "promotions, newest first"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "List promotions the caller may read."
              },
              "post": {
                "requestBody": {
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PromotionRequest"
                      }
                    }
                  },
                  "required": true
                },
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PromotionView"
                        }
                      }
                    },
                    "description": "a dry run: the gates and the per-site plan"
                  },
                  "201": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PromotionView"
                        }
                      }
                    },
                    "description": "the promotion, waiting for approvals or rolling out"
                  },
                  "409": {
                    "description": "refused: not verified in the source environment (code gate-closed), a stale plan, or another promotion or rollout in the environment"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Request a promotion of the plan's release into the plan's environment (operator)."
              }
            },
            "/v1/promotions/{id}": {
              "get": {
                "parameters": [
                  {
                    "description": "the promotion ID (pr-\u2026)",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PromotionView"
                        }
                      }
                    },
                    "description": "promotion"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "A promotion with its gates, decisions and sites."
              }
            },
            "/v1/promotions/{id}/approve": {
              "post": {
                "parameters": [
                  {
                    "description": "the promotion ID (pr-\u2026)",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "requestBody": {
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/DecisionRequest"
                      }
                    }
                  },
                  "required": true
                },
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PromotionView"
                        }
                      }
                    },
                    "description": "promotion"
                  },
                  "403": {
                    "description": "no approver role in the target environment"
                  },
                  "409": {
                    "description": "the requester's own decision, or the promotion no longer waits"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Approve a waiting promotion (approver role; not the requester)."
              }
            },
            "/v1/promotions/{id}/cancel": {
              "post": {
                "parameters": [
                  {
                    "description": "the promotion ID (pr-\u2026)",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PromotionView"
                        }
                      }
                    },
                    "description": "promotion"
                  },
                  "409": {
                    "description": "the promotion ended already"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Cancel a promotion (operator): sites not started stay as they are."
              }
            },
            "/v1/promotions/{id}/reject": {
              "post": {
                "parameters": [
                  {
                    "description": "the promotion ID (pr-\u2026)",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "requestBody": {
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/DecisionRequest"
                      }
                    }
                  },
                  "required": true
                },
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PromotionView"
                        }
                      }
                    },
                    "description": "promotion"
                  },
                  "403": {
                    "description": "no approver role in the target environment"
                  },
                  "409": {
                    "description": "the requester's own decision, or the promotion no longer waits"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Reject a waiting promotion with a reason (approver role); it ends."
              }
            },
            "/v1/releases": {
              "get": {
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "items": {
                            "$ref": "#/components/schemas/SignedReleaseManifest"
                          },
                          "type": "array"
                        }
                      }
                    },
                    "description": "releases"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Every release, signed."
              },
              "post": {
                "requestBody": {
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/ReleaseManifest"
                      }
                    }
                  },
                  "required": true
                },
                "responses": {
                  "201": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SignedReleaseManifest"
                        }
                      }
                    },
                    "description": "signed manifest"
                  },
                  "409": {
                    "description": "artifact missing or id taken"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Register a release whose artifacts were uploaded; immutable (operator)."
              }
            },
            "/v1/releases/{id}": {
              "get": {
                "parameters": [
                  {
                    "description": "",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SignedReleaseManifest"
                        }
                      }
                    },
                    "description": "release"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "One release, signed."
              }
            },
            "/v1/rollouts": {
              "get": {
                "parameters": [
                  {
                    "description": "",
                    "in": "query",
                    "name": "env",
                    "required": false,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "items": {
                            "$ref": "#/components/schemas/RolloutView"
                          },
                          "type": "array"
                        }
                      }
                    },
                    "description": "rollouts"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Rollouts, newest first."
              },
              "post": {
                "requestBody": {
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/ApplyRequest"
                      }
                    }
                  },
                  "required": true
                },
                "responses": {
                  "201": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RolloutView"
                        }
                      }
                    },
                    "description": "the rollout"
                  },
                  "403": {
                    "description": "not an operator of the environment"
                  },
                  "409": {
                    "description": "stale plan, rollout active, or release missing"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Apply a plan: start a rollout (operator). A stale plan is refused with 409 stale-plan."
              }
            },
            "/v1/rollouts/{id}": {
              "get": {
                "parameters": [
                  {
                    "description": "",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RolloutView"
                        }
                      }
                    },
                    "description": "rollout"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "One rollout with its steps."
              }
            },
            "/v1/rollouts/{id}/cancel": {
              "post": {
                "parameters": [
                  {
                    "description": "",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RolloutView"
                        }
                      }
                    },
                    "description": "rollout"
                  },
                  "409": {
                    "description": "not possible in its state"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Cancel a rollout (operator)."
              }
            },
            "/v1/rollouts/{id}/pause": {
              "post": {
                "parameters": [
                  {
                    "description": "",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RolloutView"
                        }
                      }
                    },
                    "description": "rollout"
                  },
                  "409": {
                    "description": "not possible in its state"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Pause a rollout (operator)."
              }
            },
            "/v1/rollouts/{id}/resume": {
              "post": {
                "parameters": [
                  {
                    "description": "",
                    "in": "path",
                    "name": "id",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RolloutView"
                        }
                      }
                    },
                    "description": "rollout"
                  },
                  "409": {
                    "description": "not possible in its state"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Resume a rollout (operator)."
              }
            },
            "/v1/signing-key": {
              "get": {
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SigningKeyView"
                        }
                      }
                    },
                    "description": "the release-signing public key"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "The orchestrator's Ed25519 release-signing public key and its fingerprint (operator)."
              }
            },
            "/v1/status": {
              "get": {
                "parameters": [
                  {
                    "description": "",
                    "in": "query",
                    "name": "env",
                    "required": false,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/StatusDocument"
                        }
                      }
                    },
                    "description": "status"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Every environment, node and instance: release, health, last seen, drift (viewer)."
              }
            },
            "/v1/users": {
              "get": {
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "items": {
                            "$ref": "#/components/schemas/UserView"
                          },
                          "type": "array"
                        }
                      }
                    },
                    "description": "users"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Operators and their roles (admin)."
              },
              "post": {
                "requestBody": {
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/UserRequest"
                      }
                    }
                  },
                  "required": true
                },
                "responses": {
                  "201": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/IssuedToken"
                        }
                      }
                    },
                    "description": "the API token, shown once"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Create an operator with roles per environment (admin)."
              }
            },
            "/v1/users/{name}": {
              "delete": {
                "parameters": [
                  {
                    "description": "",
                    "in": "path",
                    "name": "name",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "204": {
                    "description": "revoked"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "Revoke an operator's token (admin)."
              }
            },
            "/v1/whoami": {
              "get": {
                "responses": {
                  "200": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/UserRequest"
                        }
                      }
                    },
                    "description": "operator"
                  },
                  "default": {
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ErrorBody"
                        }
                      }
                    },
                    "description": "An error"
                  }
                },
                "security": [
                  {
                    "bearerToken": []
                  }
                ],
                "summary": "The operator behind the token and their roles."
              }
            }
          }
        }

        """#
}
