import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A meter model (表具参数模板, `MeterParamModel`); DECISIONS §5.2. */
@Entity('meter_model')
export class MeterModelEntity {
  @PrimaryColumn({ type: 'varchar', length: 50 })
  code!: string;

  @Column({ type: 'varchar', length: 200 })
  description!: string;

  /** A model that cannot be reached remotely refuses remote operations with 80002024. */
  @Column({ name: 'remote_controllable', type: 'boolean' })
  remoteControllable!: boolean;
}

/** A meter communication protocol (表具通信协议, `MeterProtocol`). */
@Entity('meter_protocol')
export class MeterProtocolEntity {
  @PrimaryColumn({ type: 'varchar', length: 50 })
  code!: string;

  @Column({ type: 'varchar', length: 200 })
  description!: string;
}

/** A data-collector (DTU, 采集仪) protocol (`DTUMeterType`). */
@Entity('dtu_type')
export class DtuTypeEntity {
  @PrimaryColumn({ type: 'varchar', length: 50 })
  code!: string;

  @Column({ type: 'varchar', length: 200 })
  description!: string;
}
