export {
  createSoapRouter,
  SOAP_ENDPOINT_PATH,
  type SoapRouter,
  type SoapRouterOptions,
} from './soap-router';
