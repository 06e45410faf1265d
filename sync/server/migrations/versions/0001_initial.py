"""The central server's first schema: agencies, counters, officers, devices and their enrolment codes,
nonces, health reports, the signed records (the evidence) and the ratings folded from them, admin users and
sessions, and the catalog versions it distributes."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table('admin_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('created_at', UTC_TIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_user')),
    sa.UniqueConstraint('username', name=op.f('uq_admin_user_username'))
    )
    op.create_table('agency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent', sa.String(length=200), server_default='', nullable=False),
    sa.Column('hotline', sa.String(length=40), server_default='', nullable=False),
    sa.Column('complaint_address', sa.String(length=200), server_default='', nullable=False),
    sa.Column('email', sa.String(length=200), server_default='', nullable=False),
    sa.Column('website', sa.String(length=200), server_default='', nullable=False),
    sa.Column('created_at', UTC_TIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency')),
    sa.UniqueConstraint('code', name=op.f('uq_agency_code'))
    )
    op.create_table('catalog_version',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('body_gzip', sa.LargeBinary(), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('imported_at', UTC_TIME, nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_catalog_version'))
    )
    op.create_table('login_throttle',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', UTC_TIME, nullable=False),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_login_throttle'))
    )
    op.create_table('nonce',
    sa.Column('device', sa.String(length=36), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('seen_at', UTC_TIME, nullable=False),
    sa.PrimaryKeyConstraint('device', 'nonce', name=op.f('pk_nonce'))
    )
    op.create_index(op.f('ix_nonce_device_seen_at'), 'nonce', ['device', 'seen_at'], unique=False)
    op.create_table('admin_session',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTC_TIME, nullable=False),
    sa.Column('expires_at', UTC_TIME, nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['admin_user.id'], name=op.f('fk_admin_session_user_id_admin_user')),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_admin_session'))
    )
    op.create_index(op.f('ix_admin_session_user_id'), 'admin_session', ['user_id'], unique=False)
    op.create_table('counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('procedures', sa.Text(), server_default='[]', nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_counter_agency_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counter')),
    sa.UniqueConstraint('agency_id', 'code', name=op.f('uq_counter_agency_id_code'))
    )
    op.create_table('device',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=True),
    sa.Column('local_uuid', sa.String(length=36), nullable=True),
    sa.Column('hostname', sa.String(length=200), server_default='', nullable=False),
    sa.Column('created_at', UTC_TIME, nullable=False),
    sa.Column('enrolled_at', UTC_TIME, nullable=True),
    sa.Column('revoked_at', UTC_TIME, nullable=True),
    sa.Column('acked_seq', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('acked_hash', sa.String(length=64), server_default=GENESIS, nullable=False),
    sa.Column('chain_state', sa.String(length=16), server_default='intact', nullable=False),
    sa.Column('first_bad_seq', sa.BigInteger(), nullable=True),
    sa.Column('problem_vi', sa.Text(), server_default='', nullable=False),
    sa.Column('problem_en', sa.Text(), server_default='', nullable=False),
    sa.Column('last_contact_at', UTC_TIME, nullable=True),
    sa.Column('last_push_at', UTC_TIME, nullable=True),
    sa.Column('health_at', UTC_TIME, nullable=True),
    sa.Column('app_version', sa.String(length=200), server_default='', nullable=False),
    sa.Column('queue_depth', sa.BigInteger(), nullable=True),
    sa.Column('head_seq', sa.BigInteger(), nullable=True),
    sa.Column('disk_free_bytes', sa.BigInteger(), nullable=True),
    sa.Column('printer_state', sa.String(length=16), server_default='', nullable=False),
    sa.Column('printer_fault', sa.String(length=500), server_default='', nullable=False),
    sa.Column('catalog_version', sa.String(length=80), server_default='', nullable=False),
    sa.Column('settings_version', sa.String(length=64), server_default='', nullable=False),
    sa.Column('last_error', sa.String(length=500), server_default='', nullable=False),
    sa.Column('clock_drift_s', sa.Float(), nullable=True),
    sa.Column('clock_flagged', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_device_agency_id_agency')),
    sa.ForeignKeyConstraint(['counter_id'], ['counter.id'], name=op.f('fk_device_counter_id_counter')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device')),
    sa.UniqueConstraint('public_key', name=op.f('uq_device_public_key'))
    )
    op.create_index(op.f('ix_device_agency_id'), 'device', ['agency_id'], unique=False)
    op.create_table('officer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=200), server_default='', nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_officer_agency_id_agency')),
    sa.ForeignKeyConstraint(['counter_id'], ['counter.id'], name=op.f('fk_officer_counter_id_counter')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer')),
    sa.UniqueConstraint('agency_id', 'code', name=op.f('uq_officer_agency_id_code'))
    )
    op.create_table('enrolment_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTC_TIME, nullable=False),
    sa.Column('expires_at', UTC_TIME, nullable=False),
    sa.Column('used_at', UTC_TIME, nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_enrolment_code_device_id_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_enrolment_code_code_hash'))
    )
    op.create_index(op.f('ix_enrolment_code_device_id'), 'enrolment_code', ['device_id'], unique=False)
    op.create_table('health',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('received_at', UTC_TIME, nullable=False),
    sa.Column('device_time', UTC_TIME, nullable=False),
    sa.Column('clock_drift_s', sa.Float(), nullable=False),
    sa.Column('clock_flagged', sa.Boolean(), nullable=False),
    sa.Column('app_version', sa.String(length=200), nullable=False),
    sa.Column('queue_depth', sa.BigInteger(), nullable=False),
    sa.Column('head_seq', sa.BigInteger(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('acked_seq', sa.BigInteger(), nullable=False),
    sa.Column('disk_free_bytes', sa.BigInteger(), nullable=False),
    sa.Column('printer_state', sa.String(length=16), nullable=False),
    sa.Column('printer_fault', sa.String(length=500), nullable=False),
    sa.Column('catalog_version', sa.String(length=80), nullable=False),
    sa.Column('settings_version', sa.String(length=64), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_health_device_id_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health'))
    )
    op.create_index(op.f('ix_health_device_id_received_at'), 'health', ['device_id', 'received_at'], unique=False)
    op.create_table('rating',
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=False),
    sa.Column('counter_code', sa.String(length=64), nullable=True),
    sa.Column('officer_code', sa.String(length=64), nullable=True),
    sa.Column('procedure_code', sa.String(length=64), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('recorded_at', UTC_TIME, nullable=False),
    sa.Column('received_at', UTC_TIME, nullable=False),
    sa.Column('suspected_repeat', sa.Boolean(), nullable=False),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('q_access', sa.SmallInteger(), nullable=True),
    sa.Column('q_procedure', sa.SmallInteger(), nullable=True),
    sa.Column('q_officer', sa.SmallInteger(), nullable=True),
    sa.Column('q_result', sa.SmallInteger(), nullable=True),
    sa.Column('q_feedback', sa.SmallInteger(), nullable=True),
    sa.Column('harassment', sa.Boolean(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_rating_agency_id_agency')),
    sa.ForeignKeyConstraint(['counter_id'], ['counter.id'], name=op.f('fk_rating_counter_id_counter')),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_rating_device_id_device')),
    sa.PrimaryKeyConstraint('device_id', 'uuid', name=op.f('pk_rating'))
    )
    op.create_index(op.f('ix_rating_agency_id_officer_code_recorded_at'), 'rating',
                    ['agency_id', 'officer_code', 'recorded_at'], unique=False)
    op.create_index(op.f('ix_rating_agency_id_procedure_code_recorded_at'), 'rating',
                    ['agency_id', 'procedure_code', 'recorded_at'], unique=False)
    op.create_index(op.f('ix_rating_agency_id_recorded_at'), 'rating', ['agency_id', 'recorded_at'], unique=False)
    op.create_index(op.f('ix_rating_counter_id_recorded_at'), 'rating', ['counter_id', 'recorded_at'], unique=False)
    op.create_table('record',
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('recorded_at', sa.String(length=40), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('rating_uuid', sa.String(length=36), nullable=True),
    sa.Column('level', sa.SmallInteger(), nullable=True),
    sa.Column('counter_id', sa.String(length=64), nullable=True),
    sa.Column('officer_id', sa.String(length=64), nullable=True),
    sa.Column('procedure_code', sa.String(length=64), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('suspected_repeat', sa.Boolean(), nullable=False),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('question', sa.String(length=32), nullable=True),
    sa.Column('value', sa.SmallInteger(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=256), nullable=False),
    sa.Column('received_at', UTC_TIME, nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_record_device_id_device')),
    sa.PrimaryKeyConstraint('device_id', 'seq', name=op.f('pk_record')),
    sa.UniqueConstraint('device_id', 'uuid', name=op.f('uq_record_device_id_uuid'))
    )


def downgrade() -> None:
    for table in ("record", "rating", "health", "enrolment_code", "officer", "device", "counter", "admin_session",
                  "nonce", "login_throttle", "catalog_version", "agency", "admin_user"):
        op.drop_table(table)
