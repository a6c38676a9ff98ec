"""Every URL, every method that matters, every role, against a table a person can review.

The URLs come from the resolver, so a new view without a row here fails the test (and the
message prints the row to add). Requests run in table order, GETs first, each with an empty
body; a 302 for a person means a redirect to the login page (anonymous) or to the result
page after a successful post."""

import pytest
from django.test import Client

from tests.security.world import fill, url_patterns

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "ops", "pm", "oncall", "admin")

# Read a row as: this URL, this method -> status for anonymous, ops, pm, oncall, admin.
# 302 anonymous = sent to the login page. 401 = token API (no session auth at all).
# 405 = wrong method: every state-changing URL refuses GET. 422/400 = allowed, empty body refused.
# 403 = the role may not do this. 404 for token_revoke = someone else's token (ops owns it).
# checklists:phase_signoff and migrations_app:transition check the role against the *target*
# after parsing, so an empty body gets 302 for all: test_valid_posts_* below covers them.
# url name                              method anon ops  pm   oncall admin
EXPECTED = """
health                                  GET   200  200  200  200  200
metrics                                 GET   401  401  401  401  401
/                                       GET   302  302  302  302  302
login                                   GET   200  200  200  200  200
monitoring:control_room                 GET   302  200  200  200  200
monitoring:live                         GET   302  200  200  200  200
monitoring:levels                       GET   302  200  200  200  200
monitoring:probe_create                 GET   302  200  403  403  200
monitoring:probe_edit                   GET   302  200  403  403  200
monitoring:probe_toggle                 GET   405  405  405  405  405
monitoring:standard_kpis                GET   405  405  405  405  405
monitoring:settings                     GET   302  200  200  200  200
monitoring:plan_kpis                    GET   405  405  405  405  405
monitoring:kpi_create                   GET   302  200  403  403  200
monitoring:kpi_edit                     GET   302  200  403  403  200
monitoring:kpi_delete                   GET   302  200  403  403  200
monitoring:kpi_move                     GET   405  405  405  405  405
monitoring:guardrail_create             GET   302  200  403  403  200
monitoring:guardrail_edit               GET   302  200  403  403  200
monitoring:guardrail_delete             GET   302  200  403  403  200
incidents:list                          GET   302  200  200  200  200
incidents:open                          GET   405  405  405  405  405
incidents:detail                        GET   302  200  200  200  200
incidents:acknowledge                   GET   405  405  405  405  405
incidents:status                        GET   405  405  405  405  405
incidents:note                          GET   405  405  405  405  405
incidents:details                       GET   405  405  405  405  405
incidents:postmortem                    GET   405  405  405  405  405
incidents:announcements                 GET   302  200  200  200  200
incidents:draft                         GET   405  405  405  405  405
incidents:announcement                  GET   302  200  200  200  200
incidents:announcement_edit             GET   405  405  405  405  405
incidents:announcement_send             GET   405  405  405  405  405
incidents:announcement_schedule         GET   405  405  405  405  405
incidents:announcement_cancel           GET   405  405  405  405  405
incidents:subscriber_add                GET   405  405  405  405  405
incidents:subscriber_remove             GET   405  405  405  405  405
incidents:status_page_settings          GET   405  405  405  405  405
incidents:evidence                      GET   302  200  200  200  200
incidents:evidence_csv                  GET   302  200  200  200  200
incidents:evidence_json                 GET   302  200  200  200  200
migrations_app:list                     GET   302  200  200  200  200
migrations_app:create                   GET   302  200  403  403  200
migrations_app:detail                   GET   302  200  200  200  200
migrations_app:transition               GET   405  405  405  405  405
migrations_app:panel                    GET   302  200  200  200  200
migrations_app:timeline                 GET   302  200  200  200  200
migrations_app:timeline_csv             GET   302  200  200  200  200
migrations_app:demo_provider            GET   405  405  405  405  405
incidents_channels:list                 GET   302  200  200  200  200
incidents_channels:create               GET   405  405  405  405  405
incidents_channels:test                 GET   405  405  405  405  405
incidents_public:status                 GET   200  200  200  200  200
incidents_public:status_json            GET   200  200  200  200  200
incidents_public:acknowledge            GET   200  200  200  200  200
checklists:template_list                GET   302  200  200  200  200
checklists:template_import              GET   302  403  403  403  200
checklists:template_detail              GET   302  200  200  200  200
checklists:template_edit                GET   302  403  403  403  200
checklists:template_export              GET   302  200  200  200  200
checklists:checklist                    GET   302  200  200  200  200
checklists:bulk_assign                  GET   405  405  405  405  405
checklists:item                         GET   302  200  200  200  200
checklists:item_tick                    GET   405  405  405  405  405
checklists:item_details                 GET   405  405  405  405  405
checklists:item_comment                 GET   405  405  405  405  405
checklists:phase_signoff                GET   405  405  405  405  405
checklists:phase_sheet                  GET   302  200  200  200  200
checklists:signoff_revoke               GET   405  405  405  405  405
api:openapi-json                        GET   200  200  200  200  200
api:openapi-view                        GET   200  200  200  200  200
api:list_templates                      GET   401  401  401  401  401
api:list_migrations                     GET   401  401  401  401  401
api:create_migration                    GET   401  401  401  401  401
api:get_migration                       GET   401  401  401  401  401
api:set_traffic                         GET   405  405  405  405  405
api:roll_back                           GET   405  405  405  405  405
api:push_samples                        GET   405  405  405  405  405
api:receive_alertmanager                GET   405  405  405  405  405
api:receive_grafana                     GET   405  405  405  405  405
api:receive_generic                     GET   405  405  405  405  405
api:transition_migration                GET   405  405  405  405  405
api:list_items                          GET   401  401  401  401  401
api:get_item                            GET   401  401  401  401  401
api:update_item                         GET   401  401  401  401  401
api:tick_item                           GET   405  405  405  405  405
api:bulk_items                          GET   405  405  405  405  405
api:list_signoffs                       GET   401  401  401  401  401
api:get_signoff                         GET   401  401  401  401  401
api:sign_signoff                        GET   405  405  405  405  405
api:renew_signoff                       GET   405  405  405  405  405
api:revoke_signoff                      GET   405  405  405  405  405
api:list_incidents                      GET   401  401  401  401  401
api:open_incident                       GET   401  401  401  401  401
api:get_incident                        GET   401  401  401  401  401
api:update_incident                     GET   401  401  401  401  401
api:acknowledge_incident                GET   405  405  405  405  405
api:resolve_incident                    GET   405  405  405  405  405
api:list_incident_notes                 GET   401  401  401  401  401
api:add_incident_note                   GET   401  401  401  401  401
api:save_incident_postmortem            GET   405  405  405  405  405
api:list_announcements                  GET   401  401  401  401  401
api:draft_announcement                  GET   401  401  401  401  401
api:list_announcement_proposals         GET   401  401  401  401  401
api:get_announcement                    GET   401  401  401  401  401
api:edit_announcement                   GET   401  401  401  401  401
api:delete_announcement                 GET   401  401  401  401  401
api:schedule_announcement               GET   405  405  405  405  405
api:send_announcement                   GET   405  405  405  405  405
api:cancel_announcement                 GET   405  405  405  405  405
api:list_roles                          GET   401  401  401  401  401
api:put_role                            GET   405  405  405  405  405
api:list_users                          GET   401  401  401  401  401
api:create_user                         GET   401  401  401  401  401
api:update_user                         GET   405  405  405  405  405
api:list_kpis                           GET   401  401  401  401  401
api:create_kpi                          GET   401  401  401  401  401
api:get_kpi                             GET   401  401  401  401  401
api:update_kpi                          GET   401  401  401  401  401
api:delete_kpi                          GET   401  401  401  401  401
api:list_guardrails                     GET   401  401  401  401  401
api:create_guardrail                    GET   401  401  401  401  401
api:get_guardrail                       GET   401  401  401  401  401
api:update_guardrail                    GET   401  401  401  401  401
api:delete_guardrail                    GET   401  401  401  401  401
api:api-root                            GET   404  404  404  404  404
rollout:ofrep_flag                      GET   405  405  405  405  405
rollout:ofrep_flags                     GET   405  405  405  405  405
rollout:unleash_features                GET   401  401  401  401  401
rollout:unleash_register                GET   405  405  405  405  405
rollout:unleash_metrics                 GET   405  405  405  405  405
rollout:panel                           GET   302  302  302  302  302
rollout:version                         GET   302  200  200  200  200
rollout:set                             GET   405  405  405  405  405
rollout:plan                            GET   405  405  405  405  405
rollout:pause                           GET   405  405  405  405  405
rollout:resume                          GET   405  405  405  405  405
rollout:rollback                        GET   405  405  405  405  405
rollout:rollback_step                   GET   405  405  405  405  405
rollout:tokens                          GET   302  200  200  200  200
rollout:token_revoke                    GET   405  405  405  405  405
monitoring:probe_delete                 GET   405  405  405  405  405
rollback_hooks:list                     GET   302  200  200  200  200
rollback_hooks:edit                     GET   302  403  403  403  200
rollback_hooks:rotate                   GET   405  405  405  405  405
rollback_hooks:delete                   GET   405  405  405  405  405
inbound:page                            GET   302  200  200  200  200
inbound:rotate                          GET   405  405  405  405  405
inbound:kpis                            GET   405  405  405  405  405
inbound_receiver:receive                GET   405  405  405  405  405
incidents_channels:edit                 GET   302  403  403  403  200
incidents_channels:delete               GET   405  405  405  405  405
api:list_probes                         GET   401  401  401  401  401
api:create_probe                        GET   401  401  401  401  401
api:get_probe                           GET   401  401  401  401  401
api:update_probe                        GET   401  401  401  401  401
api:delete_probe                        GET   401  401  401  401  401
api:list_hooks                          GET   401  401  401  401  401
api:create_hook                         GET   401  401  401  401  401
api:get_hook                            GET   401  401  401  401  401
api:update_hook                         GET   401  401  401  401  401
api:delete_hook                         GET   401  401  401  401  401
api:rotate_hook                         GET   405  405  405  405  405
api:list_channels                       GET   401  401  401  401  401
api:create_channel                      GET   401  401  401  401  401
api:get_channel                         GET   401  401  401  401  401
api:update_channel                      GET   401  401  401  401  401
api:delete_channel                      GET   401  401  401  401  401
api:test_channel                        GET   405  405  405  405  405
api:get_status_page                     GET   401  401  401  401  401
api:put_status_page                     GET   401  401  401  401  401
api:list_subscribers                    GET   401  401  401  401  401
api:add_subscriber                      GET   401  401  401  401  401
api:remove_subscriber                   GET   405  405  405  405  405
api:get_receipt                         GET   401  401  401  401  401
api:put_receipt                         GET   401  401  401  401  401
api:rotate_receipt                      GET   405  405  405  405  405
api:get_plan                            GET   401  401  401  401  401
api:put_plan                            GET   401  401  401  401  401
api:add_plan_kpis                       GET   405  405  405  405  405
api:add_webhook_kpis                    GET   405  405  405  405  405
accounts_login                          GET   302  302  302  302  302
favicon                                 GET   301  301  301  301  301
migrations_app:people                   GET   302  200  200  200  200
migrations_app:people_slots             GET   302  200  200  200  200
migrations_app:role_set                 GET   405  405  405  405  405
people:list                             GET   302  403  403  403  200
people:create                           GET   302  403  403  403  200
people:search                           GET   302  200  200  200  200
people:contacts                         GET   302  200  200  200  200
people:preferences                      GET   302  200  200  200  200
api:get_preferences                     GET   401  401  401  401  401
api:put_preferences                     GET   401  401  401  401  401
people:contact_create                   GET   302  403  403  403  200
people:contact_edit                     GET   302  403  403  403  200
people:contact_delete                   GET   302  403  403  403  200
people:edit                             GET   302  403  403  403  200
people:password                         GET   405  405  405  405  405
rollout:schedule                        GET   405  405  405  405  405
rollout:schedule_cancel                 GET   405  405  405  405  405
rollout:migration_calendar              GET   302  200  200  200  200
rollout:freezes                         GET   302  200  200  200  200
rollout:freeze_delete                   GET   405  405  405  405  405
rollout:global_calendar                 GET   405  405  405  405  405
rollout:calendar_revoke                 GET   405  405  405  405  405
rollout:calendar_feed                   GET   200  200  200  200  200
api:list_freezes                        GET   401  401  401  401  401
api:create_freeze                       GET   401  401  401  401  401
api:delete_freeze                       GET   405  405  405  405  405
api:list_scheduled_steps                GET   401  401  401  401  401
api:schedule_step                       GET   401  401  401  401  401
api:cancel_scheduled_step               GET   405  405  405  405  405
api:create_calendar_feed                GET   405  405  405  405  405
api:revoke_calendar_feed                GET   405  405  405  405  405
health                                  POST  405  405  405  405  405
/                                       POST  302  302  302  302  302
login                                   POST  200  200  200  200  200
monitoring:control_room                 POST  405  405  405  405  405
monitoring:live                         POST  405  405  405  405  405
monitoring:levels                       POST  405  405  405  405  405
monitoring:probe_create                 POST  302  422  403  403  422
monitoring:probe_edit                   POST  302  422  403  403  422
monitoring:probe_toggle                 POST  302  302  403  403  302
monitoring:standard_kpis                POST  302  302  403  403  302
monitoring:settings                     POST  405  405  405  405  405
monitoring:plan_kpis                    POST  302  302  403  403  302
monitoring:kpi_create                   POST  302  422  403  403  422
monitoring:kpi_edit                     POST  302  422  403  403  422
monitoring:kpi_delete                   POST  302  302  403  403  302
monitoring:kpi_move                     POST  302  302  403  403  302
monitoring:guardrail_create             POST  302  422  403  403  422
monitoring:guardrail_edit               POST  302  422  403  403  422
monitoring:guardrail_delete             POST  302  302  403  403  302
incidents:list                          POST  405  405  405  405  405
incidents:open                          POST  302  422  403  422  422
incidents:detail                        POST  405  405  405  405  405
incidents:acknowledge                   POST  302  302  403  302  302
incidents:status                        POST  302  422  403  422  422
incidents:note                          POST  302  422  403  422  422
incidents:details                       POST  302  422  403  422  422
incidents:postmortem                    POST  302  302  403  302  302
incidents:announcements                 POST  405  405  405  405  405
incidents:draft                         POST  302  422  422  403  422
incidents:announcement                  POST  405  405  405  405  405
incidents:announcement_edit             POST  302  422  422  403  422
incidents:announcement_send             POST  302  302  302  403  302
incidents:announcement_schedule         POST  302  422  422  403  422
incidents:announcement_cancel           POST  302  302  302  403  302
incidents:subscriber_add                POST  302  422  422  403  422
incidents:subscriber_remove             POST  302  302  302  403  302
incidents:status_page_settings          POST  302  302  302  403  302
incidents:evidence                      POST  405  405  405  405  405
incidents:evidence_csv                  POST  405  405  405  405  405
incidents:evidence_json                 POST  405  405  405  405  405
migrations_app:list                     POST  405  405  405  405  405
migrations_app:create                   POST  302  422  403  403  422
migrations_app:detail                   POST  405  405  405  405  405
migrations_app:transition               POST  302  302  302  302  302
migrations_app:panel                    POST  405  405  405  405  405
migrations_app:timeline                 POST  405  405  405  405  405
migrations_app:timeline_csv             POST  405  405  405  405  405
migrations_app:demo_provider            POST  302  422  403  422  422
incidents_channels:list                 POST  405  405  405  405  405
incidents_channels:create               POST  302  403  403  403  422
incidents_channels:test                 POST  302  403  403  403  302
incidents_public:status                 POST  405  405  405  405  405
incidents_public:status_json            POST  405  405  405  405  405
incidents_public:acknowledge            POST  200  200  200  200  200
checklists:template_list                POST  405  405  405  405  405
checklists:template_import              POST  302  403  403  403  422
checklists:template_detail              POST  405  405  405  405  405
checklists:template_edit                POST  302  403  403  403  422
checklists:template_export              POST  405  405  405  405  405
checklists:checklist                    POST  405  405  405  405  405
checklists:bulk_assign                  POST  302  422  403  403  422
checklists:item                         POST  302  422  403  422  422
checklists:item_tick                    POST  302  302  403  302  302
checklists:item_details                 POST  302  302  403  403  302
checklists:item_comment                 POST  302  422  422  422  422
checklists:phase_signoff                POST  302  302  302  302  302
checklists:phase_sheet                  POST  405  405  405  405  405
checklists:signoff_revoke               POST  302  403  302  403  302
api:openapi-json                        POST  200  200  200  200  200
api:openapi-view                        POST  200  200  200  200  200
api:list_templates                      POST  405  405  405  405  405
api:list_migrations                     POST  401  401  401  401  401
api:create_migration                    POST  401  401  401  401  401
api:get_migration                       POST  405  405  405  405  405
api:set_traffic                         POST  401  401  401  401  401
api:roll_back                           POST  401  401  401  401  401
api:push_samples                        POST  401  401  401  401  401
api:receive_alertmanager                POST  401  401  401  401  401
api:receive_grafana                     POST  401  401  401  401  401
api:receive_generic                     POST  401  401  401  401  401
api:transition_migration                POST  401  401  401  401  401
api:list_items                          POST  405  405  405  405  405
api:get_item                            POST  405  405  405  405  405
api:update_item                         POST  405  405  405  405  405
api:tick_item                           POST  401  401  401  401  401
api:bulk_items                          POST  401  401  401  401  401
api:list_signoffs                       POST  405  405  405  405  405
api:get_signoff                         POST  405  405  405  405  405
api:sign_signoff                        POST  401  401  401  401  401
api:renew_signoff                       POST  401  401  401  401  401
api:revoke_signoff                      POST  401  401  401  401  401
api:list_incidents                      POST  401  401  401  401  401
api:open_incident                       POST  401  401  401  401  401
api:get_incident                        POST  405  405  405  405  405
api:update_incident                     POST  405  405  405  405  405
api:acknowledge_incident                POST  401  401  401  401  401
api:resolve_incident                    POST  401  401  401  401  401
api:list_incident_notes                 POST  401  401  401  401  401
api:add_incident_note                   POST  401  401  401  401  401
api:save_incident_postmortem            POST  405  405  405  405  405
api:list_announcements                  POST  401  401  401  401  401
api:draft_announcement                  POST  401  401  401  401  401
api:list_announcement_proposals         POST  405  405  405  405  405
api:get_announcement                    POST  405  405  405  405  405
api:edit_announcement                   POST  405  405  405  405  405
api:delete_announcement                 POST  405  405  405  405  405
api:schedule_announcement               POST  401  401  401  401  401
api:send_announcement                   POST  401  401  401  401  401
api:cancel_announcement                 POST  401  401  401  401  401
api:list_roles                          POST  405  405  405  405  405
api:put_role                            POST  405  405  405  405  405
api:list_users                          POST  401  401  401  401  401
api:create_user                         POST  401  401  401  401  401
api:update_user                         POST  405  405  405  405  405
api:list_kpis                           POST  401  401  401  401  401
api:create_kpi                          POST  401  401  401  401  401
api:get_kpi                             POST  405  405  405  405  405
api:update_kpi                          POST  405  405  405  405  405
api:delete_kpi                          POST  405  405  405  405  405
api:list_guardrails                     POST  401  401  401  401  401
api:create_guardrail                    POST  401  401  401  401  401
api:get_guardrail                       POST  405  405  405  405  405
api:update_guardrail                    POST  405  405  405  405  405
api:delete_guardrail                    POST  405  405  405  405  405
api:api-root                            POST  404  404  404  404  404
rollout:ofrep_flag                      POST  401  401  401  401  401
rollout:ofrep_flags                     POST  401  401  401  401  401
rollout:unleash_features                POST  405  405  405  405  405
rollout:unleash_register                POST  401  401  401  401  401
rollout:unleash_metrics                 POST  401  401  401  401  401
metrics                                 POST  405  405  405  405  405
rollout:panel                           POST  405  405  405  405  405
rollout:version                         POST  405  405  405  405  405
rollout:set                             POST  302  302  403  403  302
rollout:plan                            POST  302  302  403  403  302
rollout:pause                           POST  302  302  403  403  302
rollout:resume                          POST  302  302  403  403  302
rollout:rollback                        POST  302  403  403  302  302
rollout:rollback_step                   POST  302  403  403  302  302
rollout:tokens                          POST  302  422  422  422  422
rollout:token_revoke                    POST  302  302  404  404  404
monitoring:probe_delete                 POST  302  422  403  403  422
rollback_hooks:list                     POST  302  403  403  403  422
rollback_hooks:edit                     POST  302  403  403  403  422
rollback_hooks:rotate                   POST  302  403  403  403  200
rollback_hooks:delete                   POST  302  403  403  403  422
inbound:page                            POST  302  422  403  403  422
inbound:rotate                          POST  302  200  403  403  200
inbound:kpis                            POST  302  422  403  403  422
inbound_receiver:receive                POST  401  401  401  401  401
incidents_channels:edit                 POST  302  403  403  403  422
incidents_channels:delete               POST  302  403  403  403  422
api:list_probes                         POST  401  401  401  401  401
api:create_probe                        POST  401  401  401  401  401
api:get_probe                           POST  405  405  405  405  405
api:update_probe                        POST  405  405  405  405  405
api:delete_probe                        POST  405  405  405  405  405
api:list_hooks                          POST  401  401  401  401  401
api:create_hook                         POST  401  401  401  401  401
api:get_hook                            POST  405  405  405  405  405
api:update_hook                         POST  405  405  405  405  405
api:delete_hook                         POST  405  405  405  405  405
api:rotate_hook                         POST  401  401  401  401  401
api:list_channels                       POST  401  401  401  401  401
api:create_channel                      POST  401  401  401  401  401
api:get_channel                         POST  405  405  405  405  405
api:update_channel                      POST  405  405  405  405  405
api:delete_channel                      POST  405  405  405  405  405
api:test_channel                        POST  401  401  401  401  401
api:get_status_page                     POST  405  405  405  405  405
api:put_status_page                     POST  405  405  405  405  405
api:list_subscribers                    POST  401  401  401  401  401
api:add_subscriber                      POST  401  401  401  401  401
api:remove_subscriber                   POST  405  405  405  405  405
api:get_receipt                         POST  405  405  405  405  405
api:put_receipt                         POST  405  405  405  405  405
api:rotate_receipt                      POST  401  401  401  401  401
api:get_plan                            POST  405  405  405  405  405
api:put_plan                            POST  405  405  405  405  405
api:add_plan_kpis                       POST  401  401  401  401  401
api:add_webhook_kpis                    POST  401  401  401  401  401
accounts_login                          POST  302  302  302  302  302
favicon                                 POST  405  405  405  405  405
migrations_app:people                   POST  405  405  405  405  405
migrations_app:people_slots             POST  405  405  405  405  405
migrations_app:role_set                 POST  302  302  403  403  302
people:list                             POST  405  405  405  405  405
people:create                           POST  302  403  403  403  422
people:search                           POST  405  405  405  405  405
people:contacts                         POST  405  405  405  405  405
people:preferences                      POST  302  422  422  422  422
api:get_preferences                     POST  405  405  405  405  405
api:put_preferences                     POST  405  405  405  405  405
people:contact_create                   POST  302  403  403  403  422
people:contact_edit                     POST  302  403  403  403  422
people:contact_delete                   POST  302  403  403  403  302
people:edit                             POST  302  403  403  403  422
people:password                         POST  302  403  403  403  200
rollout:schedule                        POST  302  302  403  403  302
rollout:schedule_cancel                 POST  302  302  403  403  302
rollout:migration_calendar              POST  302  302  403  403  302
rollout:freezes                         POST  302  422  403  403  422
rollout:freeze_delete                   POST  302  302  403  403  302
rollout:global_calendar                 POST  302  403  403  403  302
rollout:calendar_revoke                 POST  302  302  403  403  302
rollout:calendar_feed                   POST  405  405  405  405  405
api:list_freezes                        POST  401  401  401  401  401
api:create_freeze                       POST  401  401  401  401  401
api:delete_freeze                       POST  405  405  405  405  405
api:list_scheduled_steps                POST  401  401  401  401  401
api:schedule_step                       POST  401  401  401  401  401
api:cancel_scheduled_step               POST  405  405  405  405  405
api:create_calendar_feed                POST  401  401  401  401  401
api:revoke_calendar_feed                POST  405  405  405  405  405
"""


def parse(table: str) -> dict[tuple[str, str], dict[str, int]]:
    rows = {}
    for line in table.strip().splitlines():
        name, method, *codes = line.split()
        rows[(name, method)] = dict(zip(ROLES, map(int, codes), strict=True))
    return rows


def observe(world, role: str) -> dict[tuple[str, str], int]:
    client = Client()
    user = world.users[role]
    seen = {}
    routes = [(name, fill(route, name, world)) for name, route, _ in url_patterns()]
    for method in ("GET", "POST"):
        for name, url in routes:
            if name == "logout":
                continue  # logging out would change the role of every later request
            client.logout()
            if user is not None:
                client.force_login(user)
            response = client.get(url) if method == "GET" else client.post(url, {})
            seen[(name, method)] = response.status_code
    return seen


def test_the_table_names_every_url():
    names = {name for name, _, _ in url_patterns()} - {"logout"}
    missing = sorted(names - {name for name, _ in parse(EXPECTED)})
    assert not missing, f"URLs with no row in the permission matrix: {missing}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_the_expected_status_on_every_url(world, role):
    expected = {key: codes[role] for key, codes in parse(EXPECTED).items()}
    seen = observe(world, role)
    wrong = [
        f"{name} {method}: expected {expected.get((name, method))}, got {status}"
        for (name, method), status in seen.items()
        if expected.get((name, method)) != status
    ]
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


# The actions that matter most, with a body that would succeed: (url name, body, the model
# whose row count shows whether anything happened, roles that may do it).
VALID_POSTS = [
    ("rollout:rollback", {"reason": "p95 over 800 ms"}, "rollout.Rollback", {"oncall", "admin"}),
    (
        "migrations_app:transition",
        {"to": "preparing", "reason": "kick-off"},
        "migrations_app.AuditEvent",
        {"ops", "admin"},
    ),
    ("checklists:phase_signoff", {"role": "product_manager"}, "checklists.SignOff", {"pm"}),
]


class _Undo(Exception):
    pass


@pytest.mark.parametrize("role", ROLES)
def test_valid_posts_change_something_only_for_the_roles_allowed(world, role):
    from django.apps import apps
    from django.db import transaction
    from django.urls import reverse

    from tests.factories import put_live

    client = Client()
    if world.users[role]:
        client.force_login(world.users[role])
    for name, body, model, allowed in VALID_POSTS:
        try:
            with transaction.atomic():  # each action starts from the same world
                if name == "rollout:rollback":
                    put_live(world.migration, 25)
                if name == "checklists:phase_signoff":
                    apps.get_model("checklists.SignOff").objects.all().delete()
                Model = apps.get_model(model)
                before = Model.objects.count()
                kwargs = world.kwargs.get(name, {"slug": world.migration.slug})
                response = client.post(reverse(name, kwargs=kwargs), body)
                changed = Model.objects.count() > before
                if role in allowed:
                    assert response.status_code in (200, 302) and changed, (name, response.status_code)
                else:
                    assert not changed, name
                    assert response.status_code == (302 if role == "anonymous" else 403), name
                raise _Undo
        except _Undo:
            pass


def test_a_post_without_a_csrf_token_is_refused_on_every_session_url(world):
    """Session-authenticated POSTs need the CSRF token; the token APIs (/api, /ofrep) do not use sessions."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["admin"])
    posts = [
        (name, method)
        for (name, method), codes in parse(EXPECTED).items()
        if method == "POST" and codes["admin"] not in (401, 404, 405)
    ]
    routes = {name: fill(route, name, world) for name, route, _ in url_patterns()}
    refused = {}
    for name, _ in posts:
        if name.startswith("api:openapi") or name == "incidents_public:acknowledge":
            continue  # read-only despite accepting POST / a signed one-click link, no session
        refused[name] = client.post(routes[name], {}).status_code
    assert refused and all(code == 403 for code in refused.values()), refused
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post("/login/", {"username": "x", "password": "y"}).status_code == 403
